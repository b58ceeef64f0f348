package collections

import (
	"strings"
	"unicode"
	"unicode/utf8"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"golang.org/x/text/unicode/norm"
)

var (
	errUnreadableText = validation.NewError("validation_unreadable_text",
		"contains characters that could not be read; please type it again")
	errControlInLine = validation.NewError("validation_control_character",
		"must be one line, without tabs or other control characters")
	errControlInText = validation.NewError("validation_control_character",
		"must not contain control characters (line breaks and tabs are fine)")
	errInvisibleCharacter = validation.NewError("validation_invisible_character",
		"must not contain invisible or text-direction characters, such as zero-width spaces or right-to-left marks")
	errBlankText = validation.NewError("validation_blank_text",
		"must contain something visible")
)

// NormaliseLine returns one line of free text (a name, an address part)
// trimmed and in Unicode NFC, or a field error when it holds a character
// such a line must not.
func NormaliseLine(s string) (string, error) { return normaliseText(s, false) }

// NormaliseMultiline is NormaliseLine for text that may run over several
// lines, such as a description: CR, LF and TAB are kept.
func NormaliseMultiline(s string) (string, error) { return normaliseText(s, true) }

func normaliseText(s string, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", errUnreadableText
	}
	// NFC so that "é" typed as e + combining accent and "é" typed as one
	// character are the same name in a search, an email and on Stripe.
	text := norm.NFC.String(strings.TrimSpace(s))
	visible := text == ""
	for _, r := range text {
		if err := refusedRune(r, multiline); err != nil {
			return "", err
		}
		visible = visible || !blankRune(r)
	}
	if !visible {
		return "", errBlankText
	}
	return text, nil
}

// SanitiseLine is NormaliseLine for text the shop must keep whatever it
// holds (a name on an invoice someone has already paid): the characters
// NormaliseLine refuses are dropped instead, and what is left trimmed.
func SanitiseLine(s string) string {
	kept := strings.Map(func(r rune) rune {
		if refusedRune(r, false) != nil {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	// NFC after the drop: a dropped joiner can leave an accent to compose.
	return strings.TrimSpace(norm.NFC.String(kept))
}

// refusedRune says why a character has no place in the shop's text, or
// nil. Control characters break emails, CSV exports and log lines;
// invisible and direction characters make two different names look the
// same, or make an address read in another order than it is stored.
func refusedRune(r rune, multiline bool) error {
	switch {
	// U+FFFD is what a lenient decoder (encoding/json v1, a browser)
	// leaves of invalid UTF-8 or a lone surrogate: the text is already broken.
	case r == utf8.RuneError:
		return errUnreadableText
	case multiline && (r == '\n' || r == '\r' || r == '\t'):
		return nil
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		if multiline {
			return errControlInText
		}
		return errControlInLine
	case invisibleRune(r):
		return errInvisibleCharacter
	}
	return nil
}

// invisibleRune reports the zero-width characters, the bidi marks,
// embeddings, overrides and isolates, and every other character Unicode
// calls a format character (Cf) or default-ignorable (drawn as nothing:
// soft hyphens, fillers, tags, Mongolian selectors). Variation selectors
// are kept: they only choose how the character before them is drawn
// (❤️), and a text of nothing else is refused as blank.
func invisibleRune(r rune) bool {
	switch {
	case r >= '\uFE00' && r <= '\uFE0F', r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return false
	case unicode.Is(unicode.Cf, r),
		r == '\u034F',                // combining grapheme joiner
		r == '\u115F', r == '\u1160', // Hangul fillers
		r == '\u17B4', r == '\u17B5', // Khmer inherent vowels
		r >= '\u180B' && r <= '\u180F', // Mongolian selectors and vowel separator
		r == '\u3164', r == '\uFFA0',   // Hangul fillers
		r >= '\uFFF0' && r <= '\uFFF8', // unassigned specials
		r >= 0xE0000 && r <= 0xE0FFF:   // tags
		return true
	}
	return false
}

// blankRune reports characters that draw nothing on their own: spaces,
// variation selectors and the Braille blank.
func blankRune(r rune) bool {
	return unicode.IsSpace(r) || r == '\u2800' ||
		(r >= '\uFE00' && r <= '\uFE0F') || (r >= 0xE0100 && r <= 0xE01EF)
}

// Truncate cuts s to at most n bytes for a column of bounded length (an
// error message, a Stripe id), never inside a UTF-8 sequence.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
