package manifest

import (
	"errors"

	"github.com/edgegw/edgegw/internal/boundedio"
)

// keyReadError reports a key file that cannot be read, at the `file:` line of the key in the manifest.
func (c *compiler) keyReadError(path, file string, err error) {
	var tooLarge *boundedio.TooLargeError
	var notRegular *boundedio.NotRegularError
	switch {
	case errors.As(err, &tooLarge):
		c.errorAt(path+".file", CodeLimit, "a public key is a few KiB: name the PEM or JWK file of the key itself, not a bundle or another file",
			"key file %q is larger than %d KiB, the limit", file, MaxKeyFileBytes>>10)
	case errors.As(err, &notRegular):
		c.errorAt(path+".file", CodeReadFile, "name a PEM or JWK file, relative to the manifest's directory",
			"key file %q is %s, not a file", file, notRegular.Kind())
	default:
		c.errorAt(path+".file", CodeReadFile, "the path is relative to the manifest's directory", "cannot read key file %q: %v", file, err)
	}
}
