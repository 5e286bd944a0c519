// Package endpoint names the environment variables through which a provider points its vendor SDK client at
// another base URL — in tests, a local server (see providers/apitest) — with no code change, and checks
// their values. It owns the names, the vendors' real base URLs and that check. It builds no clients, reads
// no environment itself (callers pass getenv) and imports no vendor SDK, so every provider can import it.
package endpoint

import (
	"fmt"
	"net/url"
	"strings"
)

// Vendor is a deploy target whose API has endpoint overrides; the values are the manifest's target names.
type Vendor string

// The vendors with endpoint overrides.
const (
	Cloudflare Vendor = "cloudflare"
	CloudFront Vendor = "cloudfront"
	Fastly     Vendor = "fastly"
	Azure      Vendor = "azure"
	GCP        Vendor = "gcp"
)

// The override variables. Each holds an absolute http(s) base URL. Where the vendor's SDK reads the variable
// itself, the provider still checks it with Get, so a malformed value is reported before any call is made.
const (
	// CloudflareBaseURL is the Cloudflare API base, path included (https://api.cloudflare.com/client/v4/).
	// cloudflare-go v6 reads it itself.
	CloudflareBaseURL = "CLOUDFLARE_BASE_URL"
	// AWSCloudFront is the CloudFront API (https://cloudfront.amazonaws.com): distributions, functions.
	// aws-sdk-go-v2 reads it itself (its service-specific AWS_ENDPOINT_URL_<SERVICE> variables).
	AWSCloudFront = "AWS_ENDPOINT_URL_CLOUDFRONT"
	// AWSLambda is the Lambda API, for Lambda@Edge versions (https://lambda.us-east-1.amazonaws.com).
	// aws-sdk-go-v2 reads it itself.
	AWSLambda = "AWS_ENDPOINT_URL_LAMBDA"
	// AWSCloudFrontKeyValueStore is the CloudFront KeyValueStore data API
	// (https://cloudfront-keyvaluestore.us-east-1.amazonaws.com). aws-sdk-go-v2 reads it itself.
	AWSCloudFrontKeyValueStore = "AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE"
	// AWSWAFv2 is the WAFv2 API, for web ACLs attached to a distribution (https://wafv2.us-east-1.amazonaws.com).
	// aws-sdk-go-v2 reads it itself.
	AWSWAFv2 = "AWS_ENDPOINT_URL_WAFV2"
	// FastlyAPIURL is the Fastly API (https://api.fastly.com). go-fastly reads it itself.
	FastlyAPIURL = "FASTLY_API_URL"
	// AzureAuthorityHost is the Microsoft Entra token authority (https://login.microsoftonline.com/).
	// azidentity reads it itself.
	AzureAuthorityHost = "AZURE_AUTHORITY_HOST"
	// AzureARMEndpoint is the Azure Resource Manager API (https://management.azure.com), which serves Front
	// Door through armcdn. The SDK has no variable of its own; the provider sets it as the cloud
	// configuration's resource manager endpoint.
	AzureARMEndpoint = "EDGEGW_AZURE_ARM_ENDPOINT"
	// GCPCompute is the Compute Engine API, path included (https://compute.googleapis.com/compute/v1/), which
	// serves URL maps. The name is gcloud's; the Go client does not read it, the provider passes it as the
	// client's endpoint.
	GCPCompute = "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"
)

// Variable is one override: its name, the vendor it belongs to and the vendor's real base URL, which is
// what the SDK uses when the variable is unset.
type Variable struct {
	Name    string
	Vendor  Vendor
	Default string
}

var variables = []Variable{
	{CloudflareBaseURL, Cloudflare, "https://api.cloudflare.com/client/v4/"},
	{AWSCloudFront, CloudFront, "https://cloudfront.amazonaws.com"},
	{AWSLambda, CloudFront, "https://lambda.us-east-1.amazonaws.com"},
	{AWSCloudFrontKeyValueStore, CloudFront, "https://cloudfront-keyvaluestore.us-east-1.amazonaws.com"},
	{AWSWAFv2, CloudFront, "https://wafv2.us-east-1.amazonaws.com"},
	{FastlyAPIURL, Fastly, "https://api.fastly.com"},
	{AzureAuthorityHost, Azure, "https://login.microsoftonline.com/"},
	{AzureARMEndpoint, Azure, "https://management.azure.com"},
	{GCPCompute, GCP, "https://compute.googleapis.com/compute/v1/"},
}

// Vendors lists the vendors with endpoint overrides, in a fixed order.
func Vendors() []Vendor { return []Vendor{Cloudflare, CloudFront, Fastly, Azure, GCP} }

// Variables returns the overrides of the given vendors (all of them when none is given), in a fixed order.
func Variables(vendors ...Vendor) []Variable {
	var out []Variable
	for _, v := range variables {
		if len(vendors) == 0 || contains(vendors, v.Vendor) {
			out = append(out, v)
		}
	}
	return out
}

func contains(vs []Vendor, v Vendor) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// Get reads the override name through getenv. Unset or empty: ok is false and err nil, and the caller uses
// the vendor's own endpoint. A value that is not an absolute http(s) base URL is an error naming the
// variable and saying how to fix it, never silently ignored: a test meant for a local server must not reach
// the real vendor.
func Get(getenv func(string) string, name string) (url string, ok bool, err error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return "", false, nil
	}
	if err := check(v); err != nil {
		return "", false, fmt.Errorf("endpoint: %s: %v; set it to an absolute http(s) base URL such as %s, or unset it to use the vendor's API", name, err, example(name))
	}
	return v, true, nil
}

func check(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		if strings.Contains(v, "@") { // may hold a password: not repeated
			return fmt.Errorf("the value is not a URL")
		}
		return fmt.Errorf("%q is not a URL", v)
	}
	switch {
	case u.User != nil:
		// Not repeated: a URL with user info may hold a password.
		return fmt.Errorf("the URL must not carry credentials")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an absolute http(s) URL", v)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%q has no host", v)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(v, "?") || strings.HasSuffix(v, "#"):
		return fmt.Errorf("%q is a base URL and cannot carry a query or fragment", v)
	}
	return nil
}

func example(name string) string {
	for _, v := range variables {
		if v.Name == name {
			return v.Default
		}
	}
	return "http://127.0.0.1:8080"
}
