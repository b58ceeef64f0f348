package metrics

import (
	"context"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
	"github.com/prometheus/client_golang/prometheus"

	c "shopdash/collections"
)

// scrapeQueryTimeout bounds the outbox query of one scrape.
const scrapeQueryTimeout = 5 * time.Second

// outboxCollector reads an outbox (the order emails, the outgoing
// webhooks) at scrape time: one grouped query over its status index,
// rather than a count kept in memory that a command in another process
// (`shopdash emails retry`, a webhook replay) would not move.
type outboxCollector struct {
	app                 core.App
	outbox              outbox
	depth, dead, oldest *prometheus.Desc
}

// outbox names an outbox's table and columns: waiting are the statuses of
// rows still to be sent, dead the status of rows given up on.
type outbox struct {
	name, table, status, created string
	waiting                      []any
	dead                         string
}

func newOutboxCollector(app core.App) *outboxCollector {
	return &outboxCollector{
		app: app,
		outbox: outbox{name: "email", table: c.EmailJobs, status: c.EmailJobStatus, created: c.EmailJobCreated,
			waiting: []any{c.EmailQueued, c.EmailFailed}, dead: c.EmailDead},
		depth: prometheus.NewDesc("shopdash_outbox_depth",
			"Order emails waiting to be sent: queued, or failed with a retry to come.", nil, nil),
		dead: prometheus.NewDesc("shopdash_outbox_dead",
			"Order emails given up on after their last retry (status dead); `shopdash emails retry --dead` queues them again.", nil, nil),
		oldest: prometheus.NewDesc("shopdash_outbox_oldest_age_seconds",
			"Age of the oldest order email waiting to be sent (queued or failed), 0 when none waits.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (o *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- o.depth
	ch <- o.dead
	ch <- o.oldest
}

// Collect implements prometheus.Collector.
func (o *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeQueryTimeout)
	defer cancel()
	var rows []struct {
		Status string `db:"status"`
		Count  int    `db:"n"`
		Oldest string `db:"oldest"`
	}
	err := o.app.DB().Select(o.outbox.status+" AS status", "COUNT(*) AS n", "MIN("+o.outbox.created+") AS oldest").
		From(o.outbox.table).
		Where(dbx.In(o.outbox.status, append(o.outbox.waiting, o.outbox.dead)...)).
		GroupBy(o.outbox.status).
		WithContext(ctx).
		All(&rows)
	if err != nil {
		o.app.Logger().Error("metrics: read the "+o.outbox.name+" outbox", "error", err.Error())
		for _, desc := range []*prometheus.Desc{o.depth, o.dead, o.oldest} {
			ch <- prometheus.NewInvalidMetric(desc, err)
		}
		return
	}
	var depth, dead int
	var oldest string // PocketBase's date format sorts as text
	for _, row := range rows {
		if row.Status == o.outbox.dead {
			dead += row.Count
			continue
		}
		depth += row.Count
		if oldest == "" || row.Oldest < oldest {
			oldest = row.Oldest
		}
	}
	var age float64
	if created, err := types.ParseDateTime(oldest); err == nil && !created.IsZero() {
		age = max(0, time.Since(created.Time()).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(o.depth, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(o.dead, prometheus.GaugeValue, float64(dead))
	ch <- prometheus.MustNewConstMetric(o.oldest, prometheus.GaugeValue, age)
}

// sqlitePoolsCollector reads database/sql's statistics of PocketBase's
// connection pools at scrape time: the app opens them after the metrics
// are registered, and reopens them when it restarts.
type sqlitePoolsCollector struct {
	pools                                     []sqlitePool
	open, inUse, idle, maxOpen, waits, waited *prometheus.Desc
}

// sqlitePool is one pool: data.db or auxiliary.db (the request log), the
// concurrent one that reads and the nonconcurrent one that writes.
type sqlitePool struct {
	db, pool string
	builder  func() dbx.Builder
}

func newSQLitePoolsCollector(app core.App) *sqlitePoolsCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("shopdash_sqlite_"+name, help, []string{"db", "pool"}, nil)
	}
	return &sqlitePoolsCollector{
		pools: []sqlitePool{
			{"data", "concurrent", app.ConcurrentDB},
			{"data", "nonconcurrent", app.NonconcurrentDB},
			{"auxiliary", "concurrent", app.AuxConcurrentDB},
			{"auxiliary", "nonconcurrent", app.AuxNonconcurrentDB},
		},
		open:    desc("open_connections", "Open connections of the pool, in use or idle."),
		inUse:   desc("in_use_connections", "Connections of the pool running a query or transaction."),
		idle:    desc("idle_connections", "Idle connections of the pool."),
		maxOpen: desc("max_open_connections", "Most connections the pool opens."),
		waits:   desc("wait_count_total", "Times a query waited for a free connection of the pool."),
		waited:  desc("wait_duration_seconds_total", "Time spent waiting for a free connection of the pool."),
	}
}

// Describe implements prometheus.Collector.
func (s *sqlitePoolsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.open, s.inUse, s.idle, s.maxOpen, s.waits, s.waited} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s *sqlitePoolsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range s.pools {
		db, ok := p.builder().(*dbx.DB)
		if !ok || db == nil {
			continue // not open yet
		}
		stats := db.DB().Stats()
		for _, m := range []struct {
			desc  *prometheus.Desc
			kind  prometheus.ValueType
			value float64
		}{
			{s.open, prometheus.GaugeValue, float64(stats.OpenConnections)},
			{s.inUse, prometheus.GaugeValue, float64(stats.InUse)},
			{s.idle, prometheus.GaugeValue, float64(stats.Idle)},
			{s.maxOpen, prometheus.GaugeValue, float64(stats.MaxOpenConnections)},
			{s.waits, prometheus.CounterValue, float64(stats.WaitCount)},
			{s.waited, prometheus.CounterValue, stats.WaitDuration.Seconds()},
		} {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value, p.db, p.pool)
		}
	}
}
