package pb_migrations

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	c "shopdash/collections"
)

func init() {
	m.Register(addPartialRefundEmails, dropPartialRefundEmails)
}

// The outbox's unique key, before and after this step.
const (
	emailJobsKey         = "idx_email_jobs_order_template"
	emailJobsKeyColumns  = "`order`, template"
	emailJobsRefundKey   = "idx_email_jobs_order_template_refunded"
	emailJobsRefundKeyOn = "`order`, template, refunded_amount"
)

// addPartialRefundEmails lets the outbox hold the email of a partial
// refund: the order_partly_refunded template, the refund's amount, and the
// order's refunded_amount after it, which joins the unique key so that each
// refund has one email and a repeated event none.
func addPartialRefundEmails(app core.App) error {
	jobs, err := app.FindCollectionByNameOrId(c.EmailJobs)
	if err != nil {
		return err
	}
	template := jobs.Fields.GetByName(c.EmailJobTemplate).(*core.SelectField)
	template.Values = append(template.Values, "order_partly_refunded")
	jobs.Fields.Add(
		&core.NumberField{Name: c.EmailJobRefund, OnlyInt: true, Min: minimum(0)},
		&core.NumberField{Name: c.EmailJobRefundedAmount, OnlyInt: true, Min: minimum(0)},
	)
	jobs.RemoveIndex(emailJobsKey)
	jobs.AddIndex(emailJobsRefundKey, true, emailJobsRefundKeyOn, "")
	return app.Save(jobs)
}

func dropPartialRefundEmails(app core.App) error {
	if _, err := app.DB().Delete(c.EmailJobs, dbx.HashExp{c.EmailJobTemplate: "order_partly_refunded"}).Execute(); err != nil {
		return err
	}
	jobs, err := app.FindCollectionByNameOrId(c.EmailJobs)
	if err != nil {
		return err
	}
	template := jobs.Fields.GetByName(c.EmailJobTemplate).(*core.SelectField)
	template.Values = []string{"order_paid", "order_shipped", "order_cancelled", "order_refunded"}
	jobs.Fields.RemoveByName(c.EmailJobRefund)
	jobs.Fields.RemoveByName(c.EmailJobRefundedAmount)
	jobs.RemoveIndex(emailJobsRefundKey)
	jobs.AddIndex(emailJobsKey, true, emailJobsKeyColumns, "")
	return app.Save(jobs)
}
