package main

import (
	"io"

	"github.com/clipinfer/clipinfer/internal/atomicfile"
	"github.com/clipinfer/clipinfer/npy"
)

func init() {
	register("preprocess", command{
		summary: "Write the float32 [3,H,W] tensor the image tower sees for IMAGE as a .npy file.",
		usage:   "-m MODEL -o OUT.npy IMAGE",
		run:     runPreprocess,
	})
}

func runPreprocess(e *env, args []string) error {
	fs := flags(e, "preprocess")
	var mf modelFlags
	mf.add(fs, true, readsImages)
	out := fs.String("o", "", "output .npy file (written atomically)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "m", "o"); err != nil {
		return err
	}
	if err := nargs(fs, 1, 1, "IMAGE"); err != nil {
		return err
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	pix, err := m.ImageInput(fs.Arg(0))
	if err != nil {
		return err
	}
	s := m.Metadata().Preprocess.Crop
	return atomicfile.Write(*out, func(w io.Writer) error {
		return npy.WriteFloat32(w, pix, []int{3, s, s})
	})
}
