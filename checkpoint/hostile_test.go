package checkpoint

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/internal/regfile"
)

// allocated returns the bytes f allocates on the heap (all of them, including
// those freed again), a bound on the peak heap it causes.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// rawEntry is a zip entry given as already-compressed bytes with the sizes
// and CRC the central directory is to declare (which may lie).
type rawEntry struct {
	name         string
	deflated     []byte
	uncompressed uint64
	crc          uint32
}

// deflateZeros returns n zero bytes deflated, and their CRC-32.
func deflateZeros(t testing.TB, n int64) ([]byte, uint32) {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestSpeed)
	require.NoError(t, err)
	zero := make([]byte, 1<<20)
	h := crc32.NewIEEE()
	for left := n; left > 0; left -= int64(len(zero)) {
		chunk := zero[:min(int64(len(zero)), left)]
		_, err := fw.Write(chunk)
		require.NoError(t, err)
		h.Write(chunk)
	}
	require.NoError(t, fw.Close())
	return buf.Bytes(), h.Sum32()
}

func deflated(t testing.TB, name string, data []byte) rawEntry {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestSpeed)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	return rawEntry{name: name, deflated: buf.Bytes(), uncompressed: uint64(len(data)), crc: crc32.ChecksumIEEE(data)}
}

func rawZip(t testing.TB, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := w.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate,
			CompressedSize64: uint64(len(e.deflated)), UncompressedSize64: e.uncompressed, CRC32: e.crc})
		require.NoError(t, err)
		_, err = f.Write(e.deflated)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// threeTensorPickle is {"a": t0, "b": t1, "c": t2}, each an F32 tensor of
// numel elements over storage "0", "1", "2".
func threeTensorPickle(numel byte) []byte {
	var b strings.Builder
	b.WriteString("\x80\x02}(")
	for i, k := range []string{"a", "b", "c"} {
		key := string(rune('0' + i))
		b.WriteString("X\x01\x00\x00\x00" + k + "ctorch._utils\n_rebuild_tensor_v2\n(" +
			"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" + key +
			"X\x03\x00\x00\x00cpuK" + string([]byte{numel}) + "tQ" +
			"K\x00(K" + string([]byte{numel}) + "t(K\x01t\x89ccollections\nOrderedDict\n)RtR")
	}
	b.WriteString("u.")
	return []byte(b.String())
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// TestZipBombStoragesInflateOnlyWhatIsRead builds a checkpoint whose three
// storages each inflate to 256 MiB of zeros while the pickle declares 4
// elements each: opening costs nothing and reading the tensors inflates 16
// bytes of each.
func TestZipBombStoragesInflateOnlyWhatIsRead(t *testing.T) {
	const bomb = 128 << 20
	z, crc := deflateZeros(t, bomb)
	pkl := deflated(t, "archive/data.pkl", threeTensorPickle(4))
	var entries = []rawEntry{pkl}
	for _, k := range []string{"0", "1", "2"} {
		entries = append(entries, rawEntry{name: "archive/data/" + k, deflated: z, uncompressed: bomb, crc: crc})
	}
	path := writeTemp(t, "bomb.pt", rawZip(t, entries...))
	var sd *StateDict
	n := allocated(func() {
		var err error
		sd, err = Open(path)
		require.NoError(t, err)
		for _, name := range sd.Names() {
			v, err := sd.Tensors[name].Float32()
			require.NoError(t, err)
			assert.Equal(t, []float32{0, 0, 0, 0}, v)
		}
	})
	defer sd.Close()
	t.Logf("%d-byte file, storages of %d bytes each: %d bytes allocated", len(entries[1].deflated)*3, bomb, n)
	assert.Less(t, n, uint64(8<<20), "opening and reading must not inflate the bombs")
}

// TestDeflatedStorageShorterThanDeclared: an entry whose central directory
// promises more bytes than it inflates to fails on read with a clear error.
func TestDeflatedStorageShorterThanDeclared(t *testing.T) {
	short := deflated(t, "archive/data/0", make([]byte, 8))
	short.uncompressed = 16
	path := writeTemp(t, "short.pt", rawZip(t,
		deflated(t, "archive/data.pkl", torchPickle("0", 4, 0, "(K\x04tq", "(K\x01tq")), short))
	sd, err := Open(path)
	require.NoError(t, err)
	defer sd.Close()
	_, err = sd.Tensors["t"].Float32()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unexpected EOF")
}

// TestPickleBombs runs pickles that build far more than their size: each
// fails with the budget error, and the machine allocates a bounded amount.
func TestPickleBombs(t *testing.T) {
	if raceEnabled {
		t.Skip("single-goroutine parser with allocation bounds: many times slower under the race detector, and its allocation counts include the detector's")
	}
	deep := func() []byte {
		// A 4 KB key memoised once, then dicts nested 400 deep each under
		// that key, then many tensors-less entries: names would grow to
		// 1.6 MB each.
		var b strings.Builder
		b.WriteString("\x80\x02X\x00\x10\x00\x00" + strings.Repeat("k", 4096) + "q\x00}")
		for range 400 {
			b.WriteString("h\x00}")
		}
		for range 400 {
			b.WriteString("s")
		}
		b.WriteString(".")
		return []byte(b.String())
	}
	tests := []struct {
		name    string
		pickle  []byte
		wantErr string
	}{
		{"8M EMPTY_DICT", bytes.Repeat([]byte("}"), 8_000_000), "builds more values than its size allows"},
		{"8M EMPTY_LIST", bytes.Repeat([]byte("]"), 8_000_000), "builds more values than its size allows"},
		{"DUP of a list 8M times", append([]byte("\x80\x02]"), bytes.Repeat([]byte("2"), 8_000_000)...), "builds more values than its size allows"},
		{"MARK, 4M memo fetches, TUPLE", append(append([]byte("\x80\x02]q\x00("), bytes.Repeat([]byte("h\x00"), 4_000_000)...), []byte("t.")...), "builds more values than its size allows"},
		{"long names through a shared key", deep(), "names are too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "p.pt", rawZip(t, deflated(t, "archive/data.pkl", tc.pickle)))
			var err error
			start := time.Now()
			n := allocated(func() { _, err = Open(path) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.NotContains(t, err.Error(), "\n")
			t.Logf("%d-byte pickle: %d MiB allocated in %v: %v", len(tc.pickle), n>>20, time.Since(start), err)
			// The pickle itself, read once, plus the machine's budget with
			// room for the stack's doubling.
			assert.Less(t, n, uint64(len(tc.pickle))+3*pickleMaxBudget)
		})
	}
}

func TestOversizedPickleRefusedBeforeInflating(t *testing.T) {
	z, crc := deflateZeros(t, maxPickleSize+1)
	path := writeTemp(t, "big.pt", rawZip(t, rawEntry{name: "archive/data.pkl", deflated: z, uncompressed: maxPickleSize + 1, crc: crc}))
	n := allocated(func() {
		_, err := Open(path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "more than the 67108864 allowed")
	})
	assert.Less(t, n, uint64(1<<20))
}

func TestNonRegularFilesRefusedAtOnce(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no FIFOs on " + runtime.GOOS)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.pt")
	require.NoError(t, mkfifo(fifo))
	hf := filepath.Join(dir, "hf")
	require.NoError(t, os.CopyFS(hf, os.DirFS("testdata/hf_tiny")))
	require.NoError(t, os.Remove(filepath.Join(hf, "config.json")))
	require.NoError(t, mkfifo(filepath.Join(hf, "config.json")))
	hfPre := filepath.Join(dir, "hfpre")
	require.NoError(t, os.CopyFS(hfPre, os.DirFS("testdata/hf_tiny")))
	require.NoError(t, os.Remove(filepath.Join(hfPre, "preprocessor_config.json")))
	require.NoError(t, mkfifo(filepath.Join(hfPre, "preprocessor_config.json")))
	for name, open := range map[string]func() error{
		"checkpoint":               func() error { _, err := Open(fifo); return err },
		"config.json":              func() error { _, err := OpenHF(hf); return err },
		"preprocessor_config.json": func() error { _, err := OpenHF(hfPre); return err },
	} {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- open() }()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, regfile.ErrNotRegular)
				assert.Contains(t, err.Error(), "a FIFO")
			case <-time.After(time.Second):
				t.Fatal("opening a FIFO blocked for a second")
			}
		})
	}
}
