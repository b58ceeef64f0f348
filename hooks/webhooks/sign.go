package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"

	c "shopdash/collections"
)

// secretBytes is how many random bytes a generated secret holds; the
// spec takes 24 to 64.
const (
	secretBytes    = 32
	minSecretBytes = 24
	maxSecretBytes = 64
)

// newSecret is a fresh endpoint secret: whsec_ and the base64 of
// secretBytes random bytes.
func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand never fails on the systems Go supports
	return c.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey is the HMAC key of a secret: the bytes its base64 part
// decodes to.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, c.WebhookSecretPrefix))
	if err != nil || !strings.HasPrefix(secret, c.WebhookSecretPrefix) || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("not a whsec_ secret of %d to %d base64 bytes", minSecretBytes, maxSecretBytes)
	}
	return key, nil
}

// checkSecret accepts a secret a superuser gives: whsec_ and the base64
// of 24 to 64 bytes.
func checkSecret(secret string) error {
	if _, err := secretKey(secret); err != nil {
		return validation.NewError("validation_webhook_secret",
			fmt.Sprintf("Give whsec_ followed by the base64 of %d to %d random bytes, or leave it empty to have one generated.", minSecretBytes, maxSecretBytes))
	}
	return nil
}

// signature is the webhook-signature header of a delivery: "v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under each secret, separated
// by spaces (Standard Webhooks v1: a receiver accepts any one of them,
// which is how a rotated secret keeps working).
func signature(secrets []string, id string, timestamp int64, body []byte) (string, error) {
	signed := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		key, err := secretKey(secret)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
		mac.Write([]byte{'.'})
		mac.Write(body)
		signed = append(signed, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(signed, " "), nil
}
