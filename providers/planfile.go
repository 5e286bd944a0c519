package providers

import (
	"errors"
	"fmt"

	"github.com/edgegw/edgegw/internal/boundedio"
)

// MaxPlanBytes bounds a saved plan read back by apply: a plan holds each target's artifacts (the largest a
// vendor takes is a few MiB) and their diffs, far below this.
const MaxPlanBytes = 128 << 20

// ReadPlanFile reads a plan saved by `edgegw plan -out`, refusing what is not a regular file or holds more
// than MaxPlanBytes.
func ReadPlanFile(path string) ([]byte, error) {
	data, err := boundedio.ReadFile(path, MaxPlanBytes)
	var tooLarge *boundedio.TooLargeError
	var notRegular *boundedio.NotRegularError
	switch {
	case errors.As(err, &tooLarge):
		return nil, fmt.Errorf("providers: plan %s is larger than %d MiB, so it is not a plan edgegw saved: run edgegw plan -out again", path, MaxPlanBytes>>20)
	case errors.As(err, &notRegular):
		return nil, fmt.Errorf("providers: plan %s is %s, not a file: pass the file edgegw plan -out wrote", path, notRegular.Kind())
	case err != nil:
		return nil, fmt.Errorf("providers: read plan %s: %w", path, err)
	}
	return data, nil
}
