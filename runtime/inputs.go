package runtime

import "github.com/clipinfer/clipinfer/format"

// inputs turns text and images into what the towers take.
type inputs struct{}

func (in *inputs) init(f *format.File, meta *format.Metadata, maxPixels int64) error { return nil }
