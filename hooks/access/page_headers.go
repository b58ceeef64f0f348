package access

import "net/http"

// PageCSP lets the pages run only their own files: no inline script or
// style, API and realtime calls to this origin only, images from this
// origin (product images, thumbnails) and data: (the empty favicon), no
// framing, no plugins, forms posting here only. The checkout leaves for
// Stripe by navigation, which CSP does not restrict.
const PageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// SetPageHeaders sets the headers every page carries, with its policy, on
// top of the ones PocketBase sets on every answer (X-Content-Type-Options
// and X-Frame-Options among them).
func SetPageHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
}
