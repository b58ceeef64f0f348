package emails

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	c "shopdash/collections"
)

//go:embed templates/order_email.html templates/order_email.txt
var emailTemplates embed.FS

var (
	orderEmailHTML = htmltemplate.Must(htmltemplate.ParseFS(emailTemplates, "templates/order_email.html"))
	orderEmailText = texttemplate.Must(texttemplate.ParseFS(emailTemplates, "templates/order_email.txt"))
)

// emailCopy is the wording of one email in one language. %s in Subject is
// the order number; %s in Greeting the customer's name.
type emailCopy struct {
	Subject, Heading, Body string
}

// emailLabels are the words around the order details, per language.
type emailLabels struct {
	Greeting, GreetingNoName, Item, Quantity, Price, Total, Order, Arrival, Carrier, Tracking string
	// Refund and Refunded label a partial refund: this one, and all so far.
	Refund, Refunded string
}

var labels = map[string]emailLabels{
	"en": {"Hello %s,", "Hello,", "Item", "Qty", "Price", "Total", "Order", "Estimated arrival", "Carrier", "Tracking number", "Refunded now", "Refunded in all"},
	"es": {"Hola, %s:", "Hola:", "Artículo", "Cant.", "Precio", "Total", "Pedido", "Llegada estimada", "Transportista", "Número de seguimiento", "Reembolsado ahora", "Reembolsado en total"},
	"fr": {"Bonjour %s,", "Bonjour,", "Article", "Qté", "Prix", "Total", "Commande", "Arrivée estimée", "Transporteur", "Numéro de suivi", "Remboursé maintenant", "Remboursé au total"},
	"de": {"Hallo %s,", "Hallo,", "Artikel", "Menge", "Preis", "Summe", "Bestellung", "Voraussichtliche Ankunft", "Versanddienst", "Sendungsnummer", "Jetzt erstattet", "Insgesamt erstattet"},
}

var copies = map[string]map[string]emailCopy{
	"en": {
		c.TemplateOrderPaid:           {"Your order %s is confirmed", "Thank you for your order", "We have received your payment. Here is your receipt."},
		c.TemplateOrderShipped:        {"Your order %s is on its way", "Your order has shipped", "Your order has left our warehouse."},
		c.TemplateOrderCancelled:      {"Your order %s is cancelled", "Your order is cancelled", "Your order has been cancelled. If you paid, the money is on its way back to you."},
		c.TemplateOrderRefunded:       {"Your order %s is refunded", "Your refund is on its way", "We have refunded your order. It can take a few days to reach your account."},
		c.TemplateOrderPartlyRefunded: {"Part of your order %s is refunded", "A refund is on its way", "We have refunded part of your order; the rest of it stands. The money can take a few days to reach your account."},
	},
	"es": {
		c.TemplateOrderPaid:           {"Tu pedido %s está confirmado", "Gracias por tu pedido", "Hemos recibido tu pago. Este es tu recibo."},
		c.TemplateOrderShipped:        {"Tu pedido %s está en camino", "Tu pedido ha sido enviado", "Tu pedido ha salido de nuestro almacén."},
		c.TemplateOrderCancelled:      {"Tu pedido %s está cancelado", "Tu pedido está cancelado", "Tu pedido ha sido cancelado. Si pagaste, el dinero está de vuelta en camino."},
		c.TemplateOrderRefunded:       {"Tu pedido %s ha sido reembolsado", "Tu reembolso está en camino", "Hemos reembolsado tu pedido. Puede tardar unos días en llegar a tu cuenta."},
		c.TemplateOrderPartlyRefunded: {"Hemos reembolsado parte de tu pedido %s", "Un reembolso está en camino", "Hemos reembolsado parte de tu pedido; el resto sigue en pie. El dinero puede tardar unos días en llegar a tu cuenta."},
	},
	"fr": {
		c.TemplateOrderPaid:           {"Votre commande %s est confirmée", "Merci pour votre commande", "Nous avons reçu votre paiement. Voici votre reçu."},
		c.TemplateOrderShipped:        {"Votre commande %s est en route", "Votre commande a été expédiée", "Votre commande a quitté notre entrepôt."},
		c.TemplateOrderCancelled:      {"Votre commande %s est annulée", "Votre commande est annulée", "Votre commande a été annulée. Si vous avez payé, le remboursement est en cours."},
		c.TemplateOrderRefunded:       {"Votre commande %s est remboursée", "Votre remboursement est en route", "Nous avons remboursé votre commande. Cela peut prendre quelques jours."},
		c.TemplateOrderPartlyRefunded: {"Une partie de votre commande %s est remboursée", "Un remboursement est en route", "Nous avons remboursé une partie de votre commande ; le reste est maintenu. L'argent peut mettre quelques jours à arriver."},
	},
	"de": {
		c.TemplateOrderPaid:           {"Ihre Bestellung %s ist bestätigt", "Danke für Ihre Bestellung", "Wir haben Ihre Zahlung erhalten. Hier ist Ihre Quittung."},
		c.TemplateOrderShipped:        {"Ihre Bestellung %s ist unterwegs", "Ihre Bestellung wurde versandt", "Ihre Bestellung hat unser Lager verlassen."},
		c.TemplateOrderCancelled:      {"Ihre Bestellung %s ist storniert", "Ihre Bestellung ist storniert", "Ihre Bestellung wurde storniert. Falls Sie bezahlt haben, erhalten Sie das Geld zurück."},
		c.TemplateOrderRefunded:       {"Ihre Bestellung %s ist erstattet", "Ihre Erstattung ist unterwegs", "Wir haben Ihre Bestellung erstattet. Es kann einige Tage dauern, bis das Geld ankommt."},
		c.TemplateOrderPartlyRefunded: {"Ein Teil Ihrer Bestellung %s ist erstattet", "Eine Erstattung ist unterwegs", "Wir haben einen Teil Ihrer Bestellung erstattet; der Rest bleibt bestehen. Es kann einige Tage dauern, bis das Geld ankommt."},
	},
}

// emailView is what the templates print.
type emailView struct {
	Lang, Subject, Heading, Greeting, Body string
	Labels                                 emailLabels
	Items                                  []emailItem
	Total, Number, Arrival                 string
	// Carrier, Tracking and TrackingURL are set in the shipped email.
	Carrier, Tracking, TrackingURL string
	// Refund and Refunded are set in the partial-refund email: this
	// refund, and all that is refunded of the order by then.
	Refund, Refunded                    string
	ShopName, ShopAddress, SupportEmail string
}

type emailItem struct {
	Name     string
	Quantity int
	Total    string
}

// renderOrderEmail builds the message of an outbox job from the order as
// it is now, in the job's language (English when unknown).
func renderOrderEmail(app core.App, job *core.Record) (*mailer.Message, error) {
	lang := job.GetString(c.EmailJobLanguage)
	if _, ok := copies[lang]; !ok {
		lang = c.DefaultLanguage
	}
	template := job.GetString(c.EmailJobTemplate)
	words, ok := copies[lang][template]
	if !ok {
		return nil, fmt.Errorf("no email template %q", template)
	}
	order, err := app.FindRecordById(c.Orders, job.GetString(c.EmailJobOrder))
	if err != nil {
		return nil, fmt.Errorf("order of email %s: %w", job.Id, err)
	}
	items, err := app.FindAllRecords(c.OrderItems, dbx.HashExp{c.ItemOrder: order.Id})
	if err != nil {
		return nil, err
	}
	o := c.NewOrder(order)
	l := labels[lang]
	view := emailView{
		Lang: lang, Subject: fmt.Sprintf(words.Subject, o.Number()), Heading: words.Heading, Body: words.Body,
		Labels: l, Total: formatMoney(o.Total(), o.Currency(), lang), Number: o.Number(),
		Greeting: l.GreetingNoName, ShopName: app.Settings().Meta.AppName,
	}
	if name := order.GetString(c.OrderCustomerName); name != "" {
		view.Greeting = fmt.Sprintf(l.Greeting, name)
	}
	if arrival := o.EstimatedArrival(); !arrival.IsZero() && template != c.TemplateOrderCancelled && template != c.TemplateOrderRefunded && template != c.TemplateOrderPartlyRefunded {
		view.Arrival = arrival.Time().Format("2006-01-02")
	}
	if template == c.TemplateOrderPartlyRefunded {
		view.Refund = formatMoney(job.GetInt(c.EmailJobRefund), o.Currency(), lang)
		view.Refunded = formatMoney(job.GetInt(c.EmailJobRefundedAmount), o.Currency(), lang)
	}
	if template == c.TemplateOrderShipped {
		view.Carrier = order.GetString(c.OrderCarrier)
		view.Tracking = order.GetString(c.OrderTrackingNumber)
		view.TrackingURL = order.GetString(c.OrderTrackingURL)
	}
	for _, it := range items {
		item := c.NewOrderItem(it)
		view.Items = append(view.Items, emailItem{item.ProductName(), item.Quantity(), formatMoney(item.Total(), o.Currency(), lang)})
	}
	if shop, err := app.FindFirstRecordByFilter(c.Shop, "id != ''"); err == nil {
		view.ShopAddress = shop.GetString(c.ShopAddress)
		view.SupportEmail = shop.GetString(c.ShopSupportEmail)
	}

	var html, text bytes.Buffer
	if err := orderEmailHTML.Execute(&html, view); err != nil {
		return nil, err
	}
	if err := orderEmailText.Execute(&text, view); err != nil {
		return nil, err
	}
	s := app.Settings().Meta
	return &mailer.Message{
		From:    mail.Address{Name: s.SenderName, Address: s.SenderAddress},
		To:      []mail.Address{{Address: job.GetString(c.EmailJobRecipient)}},
		Subject: view.Subject,
		HTML:    html.String(),
		Text:    text.String(),
	}, nil
}

// formatMoney writes minor units in the language's number style with the
// currency code and as many decimals as the currency has: "1,234.50 USD"
// and "1,500 JPY" in English, "1.234,50 USD" in Spanish and German,
// "1 234,50 USD" in French.
func formatMoney(minor int, currency, lang string) string {
	thousands, decimal := ",", "."
	switch lang {
	case "es", "de":
		thousands, decimal = ".", ","
	case "fr":
		thousands, decimal = "\u202f", ","
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	places := c.MinorUnitDigits(currency)
	unit := 1
	for range places {
		unit *= 10
	}
	digits := fmt.Sprint(minor / unit)
	var grouped strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			grouped.WriteString(thousands)
		}
		grouped.WriteRune(d)
	}
	amount := sign + grouped.String()
	if places > 0 {
		amount += fmt.Sprintf("%s%0*d", decimal, places, minor%unit)
	}
	return amount + " " + strings.ToUpper(currency)
}
