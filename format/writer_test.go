package format

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriterDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, err := os.ReadFile(writeSampleFile(t, dir, "a.cif"))
	require.NoError(t, err)
	b, err := os.ReadFile(writeSampleFile(t, dir, "b.cif"))
	require.NoError(t, err)
	assert.Equal(t, a, b)
}

func TestWriterCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.cif")
	require.NoError(t, os.WriteFile(path, []byte("old model"), 0o600))

	w, err := Create(path)
	require.NoError(t, err)
	w.SetMetadata(clipMeta())
	newSample().write(t, w)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old model", string(got), "destination untouched before Commit")
	assert.Len(t, dirNames(t, dir), 2, "temporary file beside the destination")

	require.NoError(t, w.Commit())
	assert.Equal(t, []string{"m.cif"}, dirNames(t, dir), "temporary file renamed")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), w.Written())
	assert.Equal(t, FileMode, fi.Mode().Perm())
	f, err := Open(path, OpenOptions{VerifyData: true})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	require.NoError(t, w.Abort(), "Abort after Commit is a no-op")
	_, err = os.Stat(path)
	require.NoError(t, err, "Abort after Commit keeps the file")
	assert.ErrorContains(t, w.Commit(), "already committed")
	assert.ErrorContains(t, w.AddBytes("x", []byte{1}), "already committed")
}

func TestWriterSimpleCLIP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "simple.cif")
	w, err := Create(path)
	require.NoError(t, err)
	w.SetMetadata(simpleMeta())
	require.NoError(t, w.AddBytes("vocab", []byte("<pad>\n<unk>\na\n")))
	require.NoError(t, w.AddF32("image_encoder.encoder.0.weight", []int{6, 8}, make([]float32, 48)))
	require.NoError(t, w.Commit())
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, simpleMeta(), f.Metadata())
}

func TestWriterAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.cif")
	require.NoError(t, os.WriteFile(path, []byte("old model"), 0o600))
	w, err := Create(path)
	require.NoError(t, err)
	w.SetMetadata(clipMeta())
	newSample().write(t, w)
	require.NoError(t, w.Abort())
	require.NoError(t, w.Abort(), "Abort twice is harmless")
	assert.Equal(t, []string{"m.cif"}, dirNames(t, dir))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old model", string(got))
	err = w.Commit()
	assert.ErrorIs(t, err, errAborted)
	assert.ErrorIs(t, w.AddBytes("x", []byte{1}), errAborted)
}

// TestWriterErrors checks that each bad call fails with a clear message,
// removes the temporary file, leaves the destination alone and makes every
// later call fail.
func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name string
		do   func(w *Writer) error
		msg  string
	}{
		{"empty name", func(w *Writer) error { return w.AddF32("", []int{1}, []float32{1}) }, "empty name"},
		{"duplicate name", func(w *Writer) error {
			require.NoError(t, w.AddF32("a", []int{1}, []float32{1}))
			return w.AddBytes("a", []byte{1})
		}, `tensor "a": duplicate name`},
		{"long name", func(w *Writer) error { return w.AddBytes(string(make([]byte, MaxNameLen+1)), []byte{1}) }, "exceeds the limit of 1024"},
		{"name not UTF-8", func(w *Writer) error { return w.AddBytes("a\xff", []byte{1}) }, "not valid UTF-8"},
		{"shape mismatch", func(w *Writer) error { return w.AddF32("a", []int{2, 3}, make([]float32, 5)) }, "shape [2 3] has 6 elements, data has 5"},
		{"negative dim", func(w *Writer) error { return w.AddF16("a", []int{-1, 3}, nil) }, "dimension 0 of shape [-1 3] is not positive"},
		{"zero dim", func(w *Writer) error { return w.AddF16("a", []int{0}, nil) }, "dimension 0 of shape [0] is not positive"},
		{"empty blob", func(w *Writer) error { return w.AddBytes("a", nil) }, "not positive"},
		{"rank too large", func(w *Writer) error { return w.AddF32("a", make([]int, 9), nil) }, "rank 9 exceeds the limit of 8"},
		{"shape overflows", func(w *Writer) error { return w.AddF32("a", []int{1 << 30, 1 << 30, 1 << 30}, nil) }, "too many elements"},
		{"q8 block does not divide", func(w *Writer) error { return w.AddQ8("a", []int{2, 6}, make([]int8, 12), make([]float32, 4), 4) }, "q8 block 4 does not divide the 6 columns"},
		{"q8 negative block", func(w *Writer) error { return w.AddQ8("a", []int{2, 6}, make([]int8, 12), make([]float32, 4), -3) }, "q8 block -3"},
		{"q8 scale count", func(w *Writer) error { return w.AddQ8("a", []int{2, 6}, make([]int8, 12), make([]float32, 3), 3) }, "3 q8 scales given, shape [2 6] with block 3 needs 4"},
		{"no metadata", func(w *Writer) error { return w.Commit() }, "no metadata set"},
		{"invalid metadata", func(w *Writer) error {
			m := clipMeta()
			m.Activation = "swish"
			w.SetMetadata(m)
			return w.Commit()
		}, `metadata: unknown activation "swish"`},
		{"tokenizer tensor missing", func(w *Writer) error {
			w.SetMetadata(clipMeta())
			return w.Commit()
		}, `tokenizer refers to tensor "tokenizer.merges", which was not added`},
		{"tokenizer tensor not u8", func(w *Writer) error {
			w.SetMetadata(clipMeta())
			require.NoError(t, w.AddF32("tokenizer.merges", []int{1}, []float32{1}))
			return w.Commit()
		}, `tokenizer tensor "tokenizer.merges" is f32, want u8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "m.cif")
			require.NoError(t, os.WriteFile(path, []byte("old model"), 0o600))
			w, err := Create(path)
			require.NoError(t, err)
			err = tc.do(w)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.msg)
			assert.ErrorContains(t, err, path)
			assert.Equal(t, []string{"m.cif"}, dirNames(t, dir), "temporary file removed")
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, "old model", string(got))
			assert.Equal(t, err, w.AddBytes("b", []byte{1}), "error is sticky")
			assert.Equal(t, err, w.Commit(), "error is sticky")
			require.NoError(t, w.Abort())
		})
	}
}

func TestWriterRenameFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.cif")
	// A non-empty directory cannot be replaced by a file.
	require.NoError(t, os.MkdirAll(filepath.Join(path, "x"), 0o755))
	w, err := Create(path)
	require.NoError(t, err)
	w.SetMetadata(clipMeta())
	newSample().write(t, w)
	err = w.Commit()
	require.Error(t, err)
	assert.Equal(t, []string{"m.cif"}, dirNames(t, dir), "temporary file removed")
	assert.Equal(t, []string{"x"}, dirNames(t, path), "destination untouched")
}

func TestCreateInMissingDirectory(t *testing.T) {
	_, err := Create(filepath.Join(t.TempDir(), "no", "such", "m.cif"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "m.cif")
}

// failingFile is an *os.File whose writes start failing after budget bytes.
type failingFile struct {
	*os.File
	budget int
}

var errDiskFull = errors.New("disk full")

func (f *failingFile) Write(b []byte) (int, error) {
	if len(b) > f.budget {
		return 0, errDiskFull
	}
	f.budget -= len(b)
	return f.File.Write(b)
}

func (f *failingFile) WriteAt(b []byte, off int64) (int, error) {
	if len(b) > f.budget {
		return 0, errDiskFull
	}
	f.budget -= len(b)
	return f.File.WriteAt(b, off)
}

func TestWriterIOErrors(t *testing.T) {
	// A tensor larger than the write buffer reaches the file during Add;
	// the small ones reach it at Commit's flush or header write.
	big := make([]float32, writeBufSize/4+1000)
	for _, budget := range []int{0, 100, writeBufSize, writeBufSize + 4096 + 100} {
		dir := t.TempDir()
		path := filepath.Join(dir, "m.cif")
		tmp, err := os.CreateTemp(dir, ".m.cif.*.tmp")
		require.NoError(t, err)
		w := newWriter(path, tmp.Name(), &failingFile{tmp, budget})
		w.SetMetadata(clipMeta())
		require.NoError(t, w.write(make([]byte, HeaderSize)))
		err = w.AddF32("big", []int{len(big)}, big)
		if err == nil {
			require.NoError(t, w.AddBytes("tokenizer.merges", []byte("x")))
			err = w.Commit()
		}
		require.ErrorIs(t, err, errDiskFull, "budget %d", budget)
		assert.Empty(t, dirNames(t, dir), "budget %d: temporary file removed, nothing created", budget)
	}
}

func TestWriterIOErrorNamesTensor(t *testing.T) {
	dir := t.TempDir()
	tmp, err := os.CreateTemp(dir, ".m.cif.*.tmp")
	require.NoError(t, err)
	w := newWriter(filepath.Join(dir, "m.cif"), tmp.Name(), &failingFile{tmp, 0})
	big := make([]float32, writeBufSize/4+1000)
	err = w.AddF32("visual.proj", []int{len(big)}, big)
	require.ErrorIs(t, err, errDiskFull)
	assert.ErrorContains(t, err, `tensor "visual.proj": write: disk full`)
	assert.Empty(t, dirNames(t, dir))
}

// TestCRC32CKnownValue pins the checksum to the standard CRC-32C
// (Castagnoli) check value: CRC32C("123456789") = 0xe3069283.
func TestCRC32CKnownValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.cif")
	w, err := Create(path)
	require.NoError(t, err)
	w.SetMetadata(simpleMeta())
	require.NoError(t, w.AddBytes("vocab", []byte("123456789")))
	require.NoError(t, w.Commit())
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	tn, err := f.Tensor("vocab")
	require.NoError(t, err)
	assert.Equal(t, uint32(0xe3069283), tn.CRC32C)
}
