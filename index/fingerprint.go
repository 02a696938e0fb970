package index

import (
	"fmt"

	"github.com/clipinfer/clipinfer/format"
)

// Fingerprint identifies the model in the weight file at path (see
// format.File.Fingerprint). Opening maps the file and checks its header
// only, so this costs milliseconds whatever the model's size; with a model
// already open, use its Fingerprint method instead.
func Fingerprint(path string) (string, error) {
	f, err := format.Open(path)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	defer f.Close()
	return f.Fingerprint()
}
