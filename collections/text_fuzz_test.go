package collections

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"golang.org/x/text/unicode/norm"
)

// FuzzNormaliseLine checks the shop's text normalisation on any string: a
// line (or text) it accepts is valid UTF-8, trimmed, in NFC and accepted
// again unchanged; what SanitiseLine keeps of anything is a line
// NormaliseLine accepts, or blank. The seeds are issue 12's hostile names.
func FuzzNormaliseLine(f *testing.F) {
	for _, seed := range []string{
		"Ana García", "  Ana García \n", "Jose\u0301", "Ana  María", "10\u00a0Rue", "سارة שרה", "Mia 🙂", "❤️",
		"Your bank account is locked: call +1 555 0100 https://evil.example/reset",
		"Ann\r\nBcc: x@example.com", "Ann\tLee", "Ann\x00", "Ann\x1b[31m", "Ann\x7f", "Ann\u0085Lee", "Ann\u2028Lee",
		"Ad\u200bmin", "Ad\u200dmin", "\ufeffAnn", "Ann\u200f", "Ann\u202egnp.exe", "\u2068Ann\u2069", "Ann\u061c",
		"Ann\xff", "Ann\xed\xa0\x80", "Ann\ufffd", "\u3164", "\u2800", "\ufe0f", "\U000e0041dmin", "\u034f",
		"e\u200d\u0301", "a\u00ad\u0308", " \u0301", "\u0301 ", "\u1fed", "\u2000x\u3000",
		"", " ", "\n", strings.Repeat("a", 3000), strings.Repeat("\u202e", 100) + "x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, normalise := range map[string]func(string) (string, error){
			"NormaliseLine": NormaliseLine, "NormaliseMultiline": NormaliseMultiline,
		} {
			text, err := normalise(s)
			if err != nil {
				continue
			}
			switch {
			case !utf8.ValidString(text):
				t.Fatalf("%s(%q) = %q: not UTF-8", name, s, text)
			case text != strings.TrimSpace(text):
				t.Fatalf("%s(%q) = %q: not trimmed", name, s, text)
			case !norm.NFC.IsNormalString(text):
				t.Fatalf("%s(%q) = %q: not NFC", name, s, text)
			}
			if again, err := normalise(text); err != nil || again != text {
				t.Fatalf("%s(%q) = %q, then %q, %v: not idempotent", name, s, text, again, err)
			}
		}
		kept := SanitiseLine(s)
		if kept == "" {
			return
		}
		if _, err := NormaliseLine(kept); err != nil && !isBlankText(err) {
			t.Fatalf("SanitiseLine(%q) = %q, which NormaliseLine refuses: %v", s, kept, err)
		}
	})
}

func isBlankText(err error) bool {
	var e validation.Error
	return errors.As(err, &e) && e.Code() == "validation_blank_text"
}
