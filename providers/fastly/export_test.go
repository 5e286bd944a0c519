package fastly

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/edgegw/edgegw/providers"
)

// SetRetrySleep makes p's retries call sleep instead of waiting.
func SetRetrySleep(p providers.Provider, sleep func(time.Duration)) {
	p.(*Provider).retry.sleep = sleep
}

// SetJWKSClient makes p fetch key sets through c.
func SetJWKSClient(p providers.Provider, c *http.Client) { p.(*Provider).fetch = c }

// DecodeRecord reads the deploy record a version's edgegw_record VCL file holds, as JSON.
func DecodeRecord(content string) (string, error) {
	sr, err := decodeRecord(content)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(sr)
	return string(b), err
}
