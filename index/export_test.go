package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/npy"
)

func TestExport(t *testing.T) {
	for _, dt := range []DType{Int8, Float16} {
		for _, n := range []int{0, 1, 9} {
			x := sample(t, dt, n)
			var vb, jb bytes.Buffer
			require.NoError(t, x.ExportNPY(&vb))
			require.NoError(t, x.ExportJSONL(&jb))
			assert.Zero(t, (vb.Len()-n*x.Dim()*4)%64, "header padded to 64 bytes")
			data, shape, err := npy.ReadFloat32(&vb)
			require.NoError(t, err)
			require.Equal(t, []int{n, x.Dim()}, shape)
			sc := bufio.NewScanner(&jb)
			rows := 0
			for sc.Scan() {
				var rec ExportRecord
				require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
				assert.Equal(t, rows, rec.Row)
				assert.Equal(t, x.Entry(rows), rec.Entry)
				assert.Equal(t, x.Vector(rows, nil), data[rows*x.Dim():(rows+1)*x.Dim()])
				rows++
			}
			assert.Equal(t, n, rows)
		}
	}
}
