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
	for _, r := range text {
		if err := refusedRune(r, multiline); err != nil {
			return "", err
		}
	}
	return text, nil
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

// invisibleRune reports the zero-width characters and the bidi marks,
// embeddings, overrides and isolates.
func invisibleRune(r rune) bool {
	switch {
	case r >= '\u200B' && r <= '\u200F', // zero-width space, non-joiner, joiner; LRM, RLM
		r >= '\u202A' && r <= '\u202E', // embeddings and overrides
		r >= '\u2066' && r <= '\u2069', // isolates
		r == '\u061C',                  // Arabic letter mark
		r == '\u2060',                  // word joiner
		r == '\uFEFF':                  // zero-width no-break space (BOM)
		return true
	}
	return false
}
