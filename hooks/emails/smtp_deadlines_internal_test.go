package emails

import (
	"net"
	"net/mail"
	"strconv"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/mailer"
)

// TestSilentMailServerFailsTheSendInTime: a server that accepts the
// connection and never says a word fails the send at the deadline,
// instead of holding the sender for good.
func TestSilentMailServerFailsTheSendInTime(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn // open, never written to
		defer func() {
			for _, conn := range held {
				conn.Close()
			}
		}()
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, conn)
		}
	}()
	host, port, _ := net.SplitHostPort(silent.Addr().String())
	portNumber, _ := strconv.Atoi(port)
	client := &mailer.SMTPClient{Host: host, Port: portNumber}
	msg := &mailer.Message{
		From: mail.Address{Address: "shop@example.com"}, To: []mail.Address{{Address: "buyer@example.com"}},
		Subject: "Your order", HTML: "<p>Hello</p>", Text: "Hello",
	}
	started := time.Now()
	err = sendSMTP(client, msg, 300*time.Millisecond)
	if err == nil {
		t.Fatal("the send to a silent server succeeded")
	}
	if took := time.Since(started); took > 3*time.Second {
		t.Fatalf("the send gave up after %s, want about 300 ms", took)
	}
	t.Logf("gave up after %s: %v", time.Since(started).Round(time.Millisecond), err)
}
