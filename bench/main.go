// Command bench is shopdash's load benchmark (issue 7): it seeds a shop with
// the built binary, starts it, and drives it from this separate process with
// vegeta used as a library. See bench/README.md.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

type config struct {
	bins          []string // binaries to measure, one report section each
	smoke         bool
	users         int
	ordersPerUser int
	duration      time.Duration
	warmup        time.Duration
	concurrency   []int
	tokens        int
	outDir        string
	workDir       string
	keep          bool
	stripe        bool
	syncInvoices  int             // invoices the sync case fetches (0: skip)
	emails        int             // emails the drain case sends (0: skip)
	batchTimeout  time.Duration   // how long the email drain may take
	syncTimeout   time.Duration   // cap on the sync case (SIGINT after it)
	only          map[string]bool // HTTP cases to run (nil: all)
	profileDir    string          // where CPU and heap profiles of each case go ("" : none)
	realtime      []int           // connected customers of each realtime run after the one with none (nil: skip)
	realtimeSaves int             // order saves of each realtime run, sequential and again concurrent
}

// mainShop reports whether anything is measured on the main shop: an HTTP
// case, the abuse case or a batch case.
func (cfg config) mainShop() bool {
	if cfg.only == nil || cfg.emails > 0 || cfg.syncInvoices > 0 {
		return true
	}
	for name := range cfg.only {
		if name != "realtime" && name != "none" {
			return true
		}
	}
	return false
}

// runsRealtime reports whether the realtime case runs.
func (cfg config) runsRealtime() bool {
	return len(cfg.realtime) > 0 && (cfg.only == nil || cfg.only["realtime"])
}

func main() {
	log.SetFlags(log.Ltime)
	var (
		bin     = flag.String("bin", "./shopdash", "the shopdash binary to measure")
		cgoBin  = flag.String("cgo-bin", "", "optional second binary (built with -tags no_default_driver) measured the same way")
		smoke   = flag.Bool("smoke", false, "seconds-long smoke run: tiny shop, 1 s per case")
		dur     = flag.Duration("duration", 0, "length of each measured attack (default 10s, 1s with -smoke)")
		out     = flag.String("out", "bench/results", "where latest.json and latest.md go")
		work    = flag.String("work", "", "data directory parent (default a fresh temp dir, removed afterwards)")
		keep    = flag.Bool("keep", false, "keep the data directories")
		stripe  = flag.Bool("stripe", true, "also run checkout (fake Stripe) and webhook cases")
		users   = flag.Int("users", 0, "customers to seed (default 1000, 20 with -smoke)")
		opu     = flag.Int("orders-per-user", 0, "orders per customer (default 100, 10 with -smoke)")
		syncN   = flag.Int("sync-invoices", -1, "invoices for the stripe-sync case (default 100000, 1000 with -smoke; 0 skips)")
		syncCap = flag.Duration("sync-timeout", 0, "cap on the stripe-sync case, SIGINT after it (default 90s, 20s with -smoke)")
		emails  = flag.Int("emails", -1, "queued emails for the email-drain case (default 10000, 200 with -smoke; 0 skips)")
		only    = flag.String("cases", "", "comma-separated HTTP cases to run (default all): purchases,purchases-uncached,purchases-no-metrics,records-api,dashboard,dashboard-uncached,health,checkout,webhook,abuse,outgoing-webhooks,realtime; none for the batch cases only")
		conc    = flag.String("c", "", "comma-separated concurrencies (default 1,64)")
		prof    = flag.String("profile", "", "directory for a CPU profile of each measured attack and a heap profile after it (pprof, from /debug/pprof)")
		rt      = flag.String("realtime", "", "comma-separated connected customers of the realtime case, measured after a run with none (default 1000,5000, 50 with -smoke; off or 0 skips)")
	)
	flag.Parse()

	cfg := config{
		smoke: *smoke, duration: *dur, outDir: *out, keep: *keep, stripe: *stripe,
		users: 1000, ordersPerUser: 100, warmup: 2 * time.Second,
		concurrency: []int{1, 64}, tokens: 200,
		syncInvoices: 100000, emails: 10000, batchTimeout: 5 * time.Minute, syncTimeout: 90 * time.Second,
		realtime: []int{1000, 5000}, realtimeSaves: 200,
	}
	if cfg.smoke {
		cfg.users, cfg.ordersPerUser, cfg.warmup = 20, 10, 200*time.Millisecond
		cfg.syncInvoices, cfg.emails, cfg.batchTimeout, cfg.syncTimeout = 1000, 200, 20*time.Second, 20*time.Second
		cfg.realtime, cfg.realtimeSaves = []int{50}, 20
	}
	if *rt != "" {
		var err error
		if cfg.realtime, err = parseConnected(*rt); err != nil {
			log.Fatalf("-realtime: %v", err)
		}
	}
	if *syncCap > 0 {
		cfg.syncTimeout = *syncCap
	}
	if *syncN >= 0 {
		cfg.syncInvoices = *syncN
	}
	if *emails >= 0 {
		cfg.emails = *emails
	}
	if cfg.duration == 0 {
		cfg.duration = 10 * time.Second
		if cfg.smoke {
			cfg.duration = time.Second
		}
	}
	if *users > 0 {
		cfg.users = *users
	}
	if *opu > 0 {
		cfg.ordersPerUser = *opu
	}
	if *only != "" {
		cfg.only = map[string]bool{}
		for _, name := range strings.Split(*only, ",") {
			cfg.only[strings.TrimSpace(name)] = true
		}
	}
	if *conc != "" {
		cfg.concurrency = nil
		for _, f := range strings.Split(*conc, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				log.Fatalf("-c: bad concurrency %q", f)
			}
			cfg.concurrency = append(cfg.concurrency, n)
		}
	}
	cfg.profileDir = *prof
	cfg.bins = []string{*bin}
	if *cgoBin != "" {
		cfg.bins = append(cfg.bins, *cgoBin)
	}
	if err := run(cfg, *work); err != nil {
		log.Fatal(err)
	}
}

// parseConnected reads -realtime: a list of connection counts, or off (or
// 0) for none.
func parseConnected(list string) ([]int, error) {
	if list == "off" || list == "0" {
		return nil, nil
	}
	var counts []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		if n > 0 {
			counts = append(counts, n)
		}
	}
	slices.Sort(counts)
	return slices.Compact(counts), nil
}

func run(cfg config, work string) error {
	var err error
	if work == "" {
		work, err = os.MkdirTemp("", "shopdash-bench-")
		if err != nil {
			return err
		}
		if !cfg.keep {
			defer os.RemoveAll(work)
		}
	}
	cfg.workDir = work

	rep := &report{
		Started:       time.Now().UTC(),
		Smoke:         cfg.smoke,
		Machine:       machineInfo(),
		Users:         cfg.users,
		OrdersPerUser: cfg.ordersPerUser,
		Duration:      cfg.duration.String(),
		Warmup:        cfg.warmup.String(),
		RSSNote:       "server restarted for every case; peak RSS is VmHWM of that case's process (start-up, warm-up and the measured attack); idle RSS is VmRSS 1 s after the first 200 from /api/health",
	}
	for i, bin := range cfg.bins {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return err
		}
		label := driverLabel(i, bin)
		log.Printf("== %s (%s)", label, abs)
		dr, err := runBinary(cfg, abs, label, filepath.Join(work, fmt.Sprintf("data%d", i)))
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		rep.Runs = append(rep.Runs, dr)
	}
	rep.Finished = time.Now().UTC()
	return rep.write(cfg.outDir)
}

func driverLabel(i int, bin string) string {
	if i == 0 && !strings.Contains(bin, "cgo") {
		return "modernc (pure Go)"
	}
	if strings.Contains(bin, "cgo") || i > 0 {
		return "mattn (cgo)"
	}
	return bin
}
