package main

import (
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionIsTheChangelogsTopRelease: the version is the first release
// heading of CHANGELOG.md, a semver, marked unreleased only under an
// Unreleased section.
func TestVersionIsTheChangelogsTopRelease(t *testing.T) {
	raw, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	var top string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "## ") {
			top = line
			break
		}
	}
	// The top section is a release, or the Unreleased one above it (the
	// version then says so), as the changelog's preamble tells.
	want := releaseOf(string(raw))
	if strings.EqualFold(top, "## Unreleased") {
		if !strings.HasSuffix(want, "+unreleased") {
			t.Fatalf("under an Unreleased section the release is %q", want)
		}
	} else if semver := regexp.MustCompile(`^## (\d+\.\d+\.\d+)\b`).FindStringSubmatch(top); semver == nil {
		t.Fatalf("CHANGELOG.md's first section %q is neither \"## Unreleased\" nor a release heading such as \"## 1.2.3 — 2026-11-30\"", top)
	} else if want != semver[1] {
		t.Fatalf("release %q, want %q", want, semver[1])
	}
	if v := version(); !strings.HasPrefix(v, want+" (commit ") {
		t.Fatalf("version %q, want the release %q", v, want)
	}

	cases := map[string]string{
		"# Changelog\n\n## Unreleased\n\n### Added\n\n## 0.3.0 — 2026-11-30\n": "0.3.0+unreleased",
		"# Changelog\n\n## 1.10.2-rc.1 — x\n\n## 1.10.1\n":                     "1.10.2-rc.1",
		"# Changelog\n\nnothing yet\n":                                         "0.0.0+unreleased",
	}
	for text, want := range cases {
		if got := releaseOf(text); got != want {
			t.Errorf("releaseOf(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestCommitOfBuildInfo(t *testing.T) {
	info := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	if got := commitOf(info, true); got != "0123456789ab-dirty" {
		t.Fatalf("commit %q", got)
	}
	if got := commitOf(&debug.BuildInfo{}, true); got != "unknown" {
		t.Fatalf("no vcs info: %q", got)
	}
	if got := commitOf(nil, false); got != "unknown" {
		t.Fatalf("no build info: %q", got)
	}
}
