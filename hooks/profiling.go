package hooks

import (
	"net/http"
	"net/http/pprof"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// registerProfiling serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/ to superusers only, so an operator can see where a live
// shop spends its time and memory (docs/operations.md). Nothing runs until
// a profile is asked for.
func registerProfiling(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := se.Router.Group("/debug/pprof").Bind(apis.RequireSuperuserAuth())
		g.GET("/profile", apis.WrapStdHandler(http.HandlerFunc(pprof.Profile)))
		g.GET("/trace", apis.WrapStdHandler(http.HandlerFunc(pprof.Trace)))
		g.GET("/symbol", apis.WrapStdHandler(http.HandlerFunc(pprof.Symbol)))
		g.GET("/cmdline", apis.WrapStdHandler(http.HandlerFunc(pprof.Cmdline)))
		// Index serves the named profiles too (heap, allocs, goroutine, ...).
		g.GET("/{name...}", apis.WrapStdHandler(http.HandlerFunc(pprof.Index)))
		return se.Next()
	})
}
