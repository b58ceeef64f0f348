package main

import (
	_ "embed"
	"regexp"
	"runtime/debug"
	"strings"
)

// changelog is CHANGELOG.md: its top release is the binary's version, so
// the two cannot disagree.
//
//go:embed CHANGELOG.md
var changelog string

// releaseHeading is a release's heading in CHANGELOG.md: "## 1.2.3 — date".
var releaseHeading = regexp.MustCompile(`(?m)^## v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\b`)

// version is `shopdash --version`: the release at the top of CHANGELOG.md
// ("+unreleased" when an Unreleased section stands above it) and the
// commit the binary was built from, from the build info that go build
// stamps in a git checkout ("-dirty" with uncommitted changes).
func version() string {
	return releaseOf(changelog) + " (commit " + commitOf(debug.ReadBuildInfo()) + ")"
}

func releaseOf(changelog string) string {
	loc := releaseHeading.FindStringSubmatchIndex(changelog)
	if loc == nil {
		return "0.0.0+unreleased"
	}
	release := changelog[loc[2]:loc[3]]
	if strings.Contains(strings.ToLower(changelog[:loc[0]]), "\n## unreleased") {
		release += "+unreleased"
	}
	return release
}

func commitOf(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "unknown"
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return "unknown"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified == "true" {
		revision += "-dirty"
	}
	return revision
}
