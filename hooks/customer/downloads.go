package customer

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	c "shopdash/collections"
	"shopdash/hooks/access"
	"shopdash/hooks/records"
)

// downloadableStatuses are the orders whose downloads their buyer may
// fetch: paid and not cancelled or refunded.
var downloadableStatuses = []c.OrderStatus{c.StatusPaid, c.StatusShipped, c.StatusDelivered}

func registerDownloads(app core.App, appURL string) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		g := access.V1(se)
		g.GET("/downloads", listDownloads(appURL)).Bind(access.SignedIn())
		// Also reached by a plain link, signed with a short-lived file token.
		g.GET("/downloads/{item}", serveDownload)
		return se.Next()
	})
}

// download is one row of GET /api/v1/downloads.
type download struct {
	Item        string         `db:"item" json:"item"`
	Order       string         `db:"order" json:"order"`
	OrderNumber string         `db:"order_number" json:"order_number"`
	Product     string         `db:"product" json:"product"`
	ProductName string         `db:"product_name" json:"product_name"`
	Purchased   types.DateTime `db:"created" json:"purchased"`
	URL         string         `db:"-" json:"url"`
	Expires     types.DateTime `db:"-" json:"expires"`
}

// listDownloads answers the digital items of the user's paid orders, each
// with a link that works without the Authorization header for as long as
// PocketBase's file tokens live (3 minutes by default).
func listDownloads(appURL string) func(*core.RequestEvent) error {
	return func(e *core.RequestEvent) error {
		statuses := make([]any, len(downloadableStatuses))
		for i, s := range downloadableStatuses {
			statuses[i] = string(s)
		}
		rows := []download{}
		err := e.App.DB().Select("i.id AS item", "i.order AS order", "o.number AS order_number",
			"i.product", "i.product_name", "i.created").
			From(c.OrderItems+" i").
			InnerJoin(c.Orders+" o", dbx.NewExp(`o.id = i."order"`)).
			InnerJoin(c.Products+" p", dbx.NewExp("p.id = i.product")).
			Where(dbx.HashExp{"i.user": e.Auth.Id, "p.digital": true}).
			AndWhere(dbx.NewExp("p.asset != ''")).
			AndWhere(dbx.In("o.status", statuses...)).
			OrderBy("i.created DESC", "i.id DESC").
			All(&rows)
		if err != nil {
			return e.InternalServerError("", fmt.Errorf("list downloads: %w", err))
		}
		token, err := e.Auth.NewFileToken()
		if err != nil {
			return e.InternalServerError("", err)
		}
		expires := records.Stamp(time.Now().Add(e.Auth.Collection().FileToken.DurationTime()))
		for i := range rows {
			rows[i].URL = appURL + "/api/v1/downloads/" + rows[i].Item + "?token=" + token
			rows[i].Expires = expires
		}
		return e.JSON(http.StatusOK, map[string]any{"items": rows})
	}
}

// serveDownload sends the asset of a digital item to its buyer, signed in
// or holding a link from listDownloads. Someone else's item is 404; an
// order that is not paid, or was cancelled or refunded, is 403.
func serveDownload(e *core.RequestEvent) error {
	user := e.Auth
	if token := e.Request.URL.Query().Get("token"); token != "" {
		// The request log keeps the URL: drop the token from it.
		query := e.Request.URL.Query()
		query.Del("token")
		e.Request.URL.RawQuery = query.Encode()
		holder, err := e.App.FindAuthRecordByToken(token, core.TokenTypeFile)
		if err != nil {
			return e.UnauthorizedError("This download link has expired: open your downloads again for a new one.", nil)
		}
		user = holder
	}
	if user == nil || user.Collection().Name != c.Users {
		return e.UnauthorizedError("Sign in, or use a link from your downloads.", nil)
	}

	item, err := e.App.FindRecordById(c.OrderItems, e.Request.PathValue("item"))
	if err != nil || item.GetString(c.ItemUser) != user.Id {
		return e.NotFoundError("", nil)
	}
	product, err := e.App.FindRecordById(c.Products, item.GetString(c.ItemProduct))
	if err != nil || !c.NewProduct(product).Digital() || c.NewProduct(product).Asset() == "" {
		return e.NotFoundError("This item has nothing to download.", nil)
	}
	order, err := e.App.FindRecordById(c.Orders, item.GetString(c.ItemOrder))
	if err != nil {
		return e.NotFoundError("", nil)
	}
	if status := c.NewOrder(order).Status(); !slices.Contains(downloadableStatuses, status) {
		return e.ForbiddenError(fmt.Sprintf("The download is not available: the order is %s.", status), nil)
	}

	fsys, err := e.App.NewFilesystem()
	if err != nil {
		return e.InternalServerError("", err)
	}
	defer fsys.Close()
	asset := c.NewProduct(product).Asset()
	e.Response.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", asset))
	e.Response.Header().Set("Cache-Control", "private, no-store")
	e.App.Logger().Info("download", "item", item.Id, "user", user.Id)
	return fsys.Serve(e.Response, e.Request, product.BaseFilesPath()+"/"+asset, asset)
}
