package webhooks_test

import (
	"testing"

	"shopdash/internal/shoptest"
)

func TestMain(m *testing.M) { shoptest.Main(m) }
