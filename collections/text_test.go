package collections

import (
	"errors"
	"testing"

	validation "github.com/pocketbase/ozzo-validation/v4"
)

func TestNormaliseLineTrimsAndComposesOnly(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"surrounding spaces and a trailing newline", "  Ana García \n", "Ana García"},
		{"decomposed accent", "Jose\u0301", "José"},
		{"inner runs of spaces are kept", "Ana  María", "Ana  María"},
		{"no-break space inside is kept", "10\u00a0Rue", "10\u00a0Rue"},
		{"case is kept", "mcDonald", "mcDonald"},
		{"empty", "   ", ""},
		{"Arabic and Hebrew letters", "سارة שרה", "سارة שרה"},
		{"emoji", "Mia 🙂", "Mia 🙂"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormaliseLine(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("NormaliseLine(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormaliseLineRefusesControlInvisibleAndBrokenCharacters(t *testing.T) {
	cases := []struct{ name, in, code string }{
		{"CR LF inside", "Ann\r\nBcc: x@example.com", "validation_control_character"},
		{"LF inside", "Ann\nLee", "validation_control_character"},
		{"TAB inside", "Ann\tLee", "validation_control_character"},
		{"NUL", "Ann\x00", "validation_control_character"},
		{"escape", "Ann\x1b[31m", "validation_control_character"},
		{"DEL", "Ann\x7f", "validation_control_character"},
		{"C1 next line", "Ann\u0085Lee", "validation_control_character"},
		{"C1 CSI", "Ann\u009b", "validation_control_character"},
		{"line separator", "Ann\u2028Lee", "validation_control_character"},
		{"zero-width space", "Ad\u200bmin", "validation_invisible_character"},
		{"zero-width non-joiner", "Ad\u200cmin", "validation_invisible_character"},
		{"zero-width joiner", "Ad\u200dmin", "validation_invisible_character"},
		{"word joiner", "Ad\u2060min", "validation_invisible_character"},
		{"byte order mark", "\ufeffAnn", "validation_invisible_character"},
		{"left-to-right mark", "Ann\u200e", "validation_invisible_character"},
		{"right-to-left mark", "Ann\u200f", "validation_invisible_character"},
		{"Arabic letter mark", "Ann\u061c", "validation_invisible_character"},
		{"right-to-left embedding", "\u202bAnn", "validation_invisible_character"},
		{"pop directional formatting", "Ann\u202c", "validation_invisible_character"},
		{"right-to-left override", "Ann\u202egnp.exe", "validation_invisible_character"},
		{"left-to-right override", "\u202dAnn", "validation_invisible_character"},
		{"first strong isolate", "\u2068Ann\u2069", "validation_invisible_character"},
		{"right-to-left isolate", "\u2067Ann", "validation_invisible_character"},
		{"invalid UTF-8", "Ann\xff", "validation_unreadable_text"},
		{"encoded surrogate", "Ann\xed\xa0\x80", "validation_unreadable_text"},
		{"replacement character", "Ann\ufffd", "validation_unreadable_text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormaliseLine(tc.in)
			var verr validation.Error
			if !errors.As(err, &verr) || verr.Code() != tc.code {
				t.Fatalf("NormaliseLine(%q) = %q, %v; want error %s", tc.in, got, err, tc.code)
			}
		})
	}
}

func TestNormaliseMultilineKeepsLineBreaksAndTabsOnly(t *testing.T) {
	text, err := NormaliseMultiline(" Hand-made mug.\r\n\r\nCapacity:\t350 ml\nCafe\u0301 \n")
	if want := "Hand-made mug.\r\n\r\nCapacity:\t350 ml\nCafé"; err != nil || text != want {
		t.Fatalf("got %q, %v; want %q", text, err, want)
	}
	for _, in := range []string{"Mug\x00cup", "Mug\x0bcup", "Mug\u0085cup", "Mug\u2029cup", "Mug\u202ecup", "Mug\u200bcup", "Mug\xffcup"} {
		if got, err := NormaliseMultiline(in); err == nil {
			t.Errorf("NormaliseMultiline(%q) = %q, accepted", in, got)
		}
	}
}

// TestNormaliseLineRefusesEveryInvisibleCharacter: format and
// default-ignorable characters draw nothing, so a name of them looks blank
// or like another's; a text with nothing visible is refused as blank.
func TestNormaliseLineRefusesEveryInvisibleCharacter(t *testing.T) {
	for name, tc := range map[string]struct {
		in, code string
	}{
		"soft hyphen":               {"Ca\u00adsey", "validation_invisible_character"},
		"Mongolian vowel separator": {"Ca\u180esey", "validation_invisible_character"},
		"combining grapheme joiner": {"Ca\u034fsey", "validation_invisible_character"},
		"tag letter":                {"Casey\U000E0041", "validation_invisible_character"},
		"Hangul filler only":        {"\u3164\u3164", "validation_invisible_character"},
		"variation selector only":   {"\ufe0f", "validation_blank_text"},
		"Braille blank only":        {"\u2800\u2800", "validation_blank_text"},
		"Arabic number sign (Cf)":   {"Casey\u0600", "validation_invisible_character"},
	} {
		_, err := NormaliseLine(tc.in)
		var verr validation.Error
		if !errors.As(err, &verr) || verr.Code() != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	for _, ok := range []string{"Ana ❤️", "José", "محمد", "Zoë-Ann O'Neil"} {
		if _, err := NormaliseLine(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

// TestSanitiseLineDropsWhatNormaliseRefuses: text that must be kept (a
// paid invoice's name) loses its refused characters instead.
func TestSanitiseLineDropsWhatNormaliseRefuses(t *testing.T) {
	for in, want := range map[string]string{
		"Eve\r\nBcc: x\x00\u202e": "EveBcc: x",
		"  Jose\u0301  ":          "José",
		"\xff\xfeName":            "Name",
		"Plain":                   "Plain",
	} {
		if got := SanitiseLine(in); got != want {
			t.Errorf("SanitiseLine(%q) = %q, want %q", in, got, want)
		}
	}
}
