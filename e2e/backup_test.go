//go:build e2e

package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"shopdash/internal/fakestripe"
)

// TestBackupTakenWhileWritingRestores: a PocketBase backup taken through
// its API while customers check out and Stripe pays them restores into a
// fresh data dir as a consistent shop at one moment between the start and
// the end of the backup: SQLite's integrity holds, every order's items add
// up, each payment it holds is in the ledger once with one receipt email,
// and the product picture uploaded before comes back.
func TestBackupTakenWhileWritingRestores(t *testing.T) {
	stripe := fakestripe.New(t)
	env := []string{"STRIPE_SECRET_KEY=sk_test_e2e", "STRIPE_API_BASE=" + stripe.URL,
		"STRIPE_WEBHOOK_SECRET=" + webhookSecret, "SHOPDASH_SYNC_SCHEDULE=off"}
	s := startShop(t, env...)
	admin := s.superuser()
	s.liftRateLimits(admin)
	product := s.stockedProduct(admin, 100000)
	picture := uploadPicture(t, s, admin, product)
	tokens := []string{s.signIn("customer@example.com"), s.signIn("customer2@example.com")}

	// Two customers buy and pay in a loop until told to stop.
	var mu sync.Mutex
	var paid []payment
	ackedAt := map[string]time.Time{}
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for _, token := range tokens {
		writers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				p, err := s.checkout(token, product)
				if err != nil {
					t.Error(err)
					return
				}
				status, err := s.deliver(p.paidEvent(time.Now()))
				if err != nil || status != http.StatusOK {
					t.Errorf("payment of %s: %d %v", p.Order, status, err)
					return
				}
				mu.Lock()
				paid = append(paid, p)
				ackedAt[p.Order] = time.Now()
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)
	backupStarted := time.Now()
	if status, out := s.call(http.MethodPost, "/api/backups", admin, map[string]string{"name": "while_writing.zip"}); status != http.StatusNoContent {
		t.Fatalf("backup: %d %v", status, out)
	}
	backupEnded := time.Now()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	writers.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// The backup, as an operator downloads it, into a fresh data dir.
	zipPath := filepath.Join(t.TempDir(), "while_writing.zip")
	downloadBackup(t, s, admin, "while_writing.zip", zipPath)
	dir := t.TempDir()
	entries := unzip(t, zipPath, dir)
	if !slices.Contains(entries, picture) {
		t.Fatalf("the backup lacks the picture %s: %v", picture, entries)
	}

	st := readRestored(t, filepath.Join(dir, "data.db"))
	if st.Integrity != "ok" {
		t.Fatalf("integrity_check of the restored data.db: %s", st.Integrity)
	}
	if len(st.Broken) > 0 {
		t.Fatalf("orders whose items do not add up: %v", st.Broken)
	}
	var before, during, after, held int
	for _, p := range paid {
		acked := ackedAt[p.Order]
		status, present := st.Status[p.Order]
		isPaid := status == "paid"
		switch {
		case acked.Before(backupStarted):
			before++
			if !isPaid {
				t.Errorf("order %s, paid before the backup started, is %q in it", p.Order, status)
			}
		case acked.After(backupEnded):
			after++
			if isPaid {
				t.Errorf("order %s, paid after the backup ended, is paid in it", p.Order)
			}
		default:
			during++
		}
		if isPaid {
			held++
			if st.Ledger[p.Event] != 1 || st.PaidEmails[p.Order] != 1 {
				t.Errorf("paid order %s: %d ledger rows, %d receipt emails; want 1 and 1", p.Order, st.Ledger[p.Event], st.PaidEmails[p.Order])
			}
		}
		if present && !isPaid && st.Ledger[p.Event] != 0 {
			t.Errorf("order %s is %q but its event is in the ledger", p.Order, status)
		}
	}
	t.Logf("backup of %.0f ms while writing: %d payments acknowledged before it, %d during, %d after; the restore holds %d of them paid",
		backupEnded.Sub(backupStarted).Seconds()*1000, before, during, after, held)
	if before == 0 || after == 0 {
		t.Fatalf("the writes did not surround the backup (%d before, %d after)", before, after)
	}

	// The restored shop serves, with the picture.
	restored := serveDir(t, dir, env...)
	res, err := http.Get(restored.url + "/api/files/" + filepath.ToSlash(picture[len("storage/"):]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, pictureBytes(t)) {
		t.Fatalf("the picture from the restored shop: %d, %d bytes", res.StatusCode, len(body))
	}
	customer := restored.signIn("customer@example.com")
	if status, out := restored.call(http.MethodGet, "/api/v1/dashboard", customer, nil); status != http.StatusOK {
		t.Fatalf("dashboard of the restored shop: %d %v", status, out)
	}
}

// pictureBytes is a small PNG.
func pictureBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uploadPicture sets the product's image as store staff would and returns
// its path in a backup: storage/<collection>/<record>/<file>.
func uploadPicture(t *testing.T, s *shop, admin, product string) string {
	t.Helper()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, err := form.CreateFormFile("image", "picture.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(pictureBytes(t)); err != nil {
		t.Fatal(err)
	}
	if err := form.Close(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPatch, s.url+"/api/collections/products/records/"+product, &body)
	req.Header.Set("Content-Type", form.FormDataContentType())
	req.Header.Set("Authorization", admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d %v %v", res.StatusCode, out, err)
	}
	return "storage/" + out["collectionId"].(string) + "/" + product + "/" + out["image"].(string)
}

// downloadBackup fetches a backup with a superuser file token.
func downloadBackup(t *testing.T, s *shop, admin, name, to string) {
	t.Helper()
	status, out := s.call(http.MethodPost, "/api/files/token", admin, nil)
	if status != http.StatusOK {
		t.Fatalf("file token: %d %v", status, out)
	}
	res, err := http.Get(s.url + "/api/backups/" + name + "?token=" + out["token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("download %s: %d", name, res.StatusCode)
	}
	f, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, res.Body); err != nil {
		t.Fatal(err)
	}
}

// unzip extracts a backup into dir, as PocketBase's restore does, and
// returns its entries.
func unzip(t *testing.T, zipPath, dir string) []string {
	t.Helper()
	r, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
		target := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		src, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(target)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(dst, src)
		src.Close()
		dst.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return names
}
