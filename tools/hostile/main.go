//go:build unix

// Command hostile writes the hostile inputs docs/SECURITY.md measures the
// converter against: torch zips whose storages or pickle inflate far beyond
// their size, a Hugging Face directory whose config.json is a FIFO, and an
// oversized preprocessing setting. Nothing it writes is a valid model.
//
//	go run ./tools/hostile -o /tmp/hostile
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	out := flag.String("o", "hostile", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Three storages of 1 GiB of zeros each behind three 4-element tensors.
	zeros, crc, err := deflateRepeat(0, 1<<30)
	if err != nil {
		return err
	}
	entries := []entry{deflated("archive/data.pkl", threeTensorPickle())}
	for _, k := range []string{"0", "1", "2"} {
		entries = append(entries, entry{name: "archive/data/" + k, data: zeros, size: 1 << 30, crc: crc})
	}
	if err := writeZip(filepath.Join(dir, "zipbomb.pt"), entries); err != nil {
		return err
	}
	// data.pkl of 200 MB of EMPTY_DICT and one of 20 M EMPTY_LIST.
	for name, n := range map[string]int{"dictbomb.pt": 200_000_000, "listbomb.pt": 20_000_000} {
		op := byte('}')
		if name == "listbomb.pt" {
			op = ']'
		}
		d, crc, err := deflateRepeat(op, int64(n))
		if err != nil {
			return err
		}
		if err := writeZip(filepath.Join(dir, name), []entry{{name: "archive/data.pkl", data: d, size: uint64(n), crc: crc}}); err != nil {
			return err
		}
	}
	// A Hugging Face directory whose config.json is a FIFO.
	fifoDir := filepath.Join(dir, "hf-fifo")
	if err := os.MkdirAll(fifoDir, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(fifoDir, "config.json"))
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "config.json"), 0o644); err != nil {
		return err
	}
	// A preprocessing setting the runtime refuses (copy a model's other files
	// beside it, e.g. from testdata/models/hf-gelu).
	if err := os.MkdirAll(filepath.Join(dir, "hf-bigsize"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hf-bigsize", "preprocessor_config.json"), []byte(`{"size": {"shortest_edge": 100000}}`), 0o644)
}

type entry struct {
	name string
	data []byte // deflated
	size uint64
	crc  uint32
}

func deflated(name string, b []byte) entry {
	d, _ := deflateReader(bytes.NewReader(b))
	return entry{name: name, data: d, size: uint64(len(b)), crc: crc32.ChecksumIEEE(b)}
}

// deflateRepeat deflates n copies of byte c.
func deflateRepeat(c byte, n int64) ([]byte, uint32, error) {
	chunk := bytes.Repeat([]byte{c}, 1<<20)
	h := crc32.NewIEEE()
	pr, pw := io.Pipe()
	go func() {
		for left := n; left > 0; left -= int64(len(chunk)) {
			b := chunk[:min(int64(len(chunk)), left)]
			h.Write(b)
			if _, err := pw.Write(b); err != nil {
				return
			}
		}
		pw.Close()
	}()
	d, err := deflateReader(pr)
	return d, h.Sum32(), err
}

func deflateReader(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	if _, err := io.Copy(fw, r); err != nil {
		return nil, err
	}
	err := fw.Close()
	return buf.Bytes(), err
}

func writeZip(path string, entries []entry) error {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := w.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate,
			CompressedSize64: uint64(len(e.data)), UncompressedSize64: e.size, CRC32: e.crc})
		if err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// threeTensorPickle is {"a": t0, "b": t1, "c": t2}: 4-element F32 tensors
// over storages "0", "1" and "2".
func threeTensorPickle() []byte {
	var b strings.Builder
	b.WriteString("\x80\x02}(")
	for i, k := range []string{"a", "b", "c"} {
		b.WriteString("X\x01\x00\x00\x00" + k + "ctorch._utils\n_rebuild_tensor_v2\n(" +
			"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" + string(rune('0'+i)) +
			"X\x03\x00\x00\x00cpuK\x04tQK\x00(K\x04t(K\x01t\x89ccollections\nOrderedDict\n)RtR")
	}
	b.WriteString("u.")
	return []byte(b.String())
}
