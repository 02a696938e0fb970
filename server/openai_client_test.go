package server

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenAINodeClient runs the official OpenAI Node SDK (npm "openai",
// installed with its Node.js by `npm ci` in testdata/openai-client; .ci/run
// does that) against the server and checks that what the SDK hands the
// application equals the runtime's embeddings.
func TestOpenAINodeClient(t *testing.T) {
	dir, err := filepath.Abs("testdata/openai-client")
	require.NoError(t, err)
	node := filepath.Join(dir, "node_modules", ".bin", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json")); err != nil {
		msg := "the OpenAI Node SDK is not installed: run npm ci in server/testdata/openai-client"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	m := tinyModel(t)
	base := protocolServer(t, m)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "client.mjs"), base+"/v1", "tiny.clip")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	require.NoError(t, err, "node client.mjs")

	type result struct {
		Model string `json:"model"`
		Usage Usage  `json:"usage"`
		Data  []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	var out struct {
		Default      result   `json:"default"`
		Float        result   `json:"float"`
		Models       []string `json:"models"`
		UnknownModel struct {
			Status  int    `json:"status"`
			Code    string `json:"code"`
			Param   string `json:"param"`
			Message string `json:"message"`
		} `json:"unknownModel"`
	}
	require.NoError(t, json.Unmarshal(stdout, &out), string(stdout))

	want, err := m.EmbedTexts([]string{"a photo of a cat", "a dog"})
	require.NoError(t, err)
	for name, r := range map[string]result{"default (base64)": out.Default, "float": out.Float} {
		assert.Equal(t, "tiny.clip", r.Model, name)
		assert.Equal(t, Usage{11, 11}, r.Usage, name)
		require.Len(t, r.Data, 2, name)
		for i, d := range r.Data {
			assert.Equal(t, i, d.Index, name)
			assert.Equal(t, want[i], d.Embedding, "%s: input %d", name, i)
		}
	}
	assert.Equal(t, []string{"tiny.clip", "ViT-B-32__openai"}, out.Models)
	assert.Equal(t, 404, out.UnknownModel.Status)
	assert.Equal(t, "model_not_found", out.UnknownModel.Code)
	assert.Equal(t, "model", out.UnknownModel.Param)
	assert.Contains(t, out.UnknownModel.Message, "text-embedding-3-small")
}
