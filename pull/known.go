package pull

// The checkpoints clipinfer pull knows by name. OpenAI publishes each
// file under a path whose last folder is the file's SHA-256, which pins
// the exact bytes. The Hugging Face files are verified against the hash
// and size in the hub's Git LFS pointer, fetched just before the file.

const (
	openAIBase      = "https://openaipublic.azureedge.net/clip/models"
	huggingFaceBase = "https://huggingface.co"
)

// Known lists the checkpoints pull can fetch by name, in the order
// "clipinfer pull -list" prints them.
var Known = []Checkpoint{
	{
		Name:    "ViT-B-32",
		Aliases: []string{"ViT-B/32", "openai/ViT-B-32"},
		Summary: "OpenAI CLIP ViT-B/32 (224 px, patch 32, 512-d embeddings), TorchScript archive",
		Base:    openAIBase,
		Approx:  "about 340 MiB",
		Files: []File{{
			Name:   "ViT-B-32.pt",
			Path:   "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt",
			SHA256: "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
		}},
	},
	{
		Name:    "ViT-B-16",
		Aliases: []string{"ViT-B/16", "openai/ViT-B-16"},
		Summary: "OpenAI CLIP ViT-B/16 (224 px, patch 16, 512-d embeddings), TorchScript archive",
		Base:    openAIBase,
		Approx:  "about 335 MiB",
		Files: []File{{
			Name:   "ViT-B-16.pt",
			Path:   "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt",
			SHA256: "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f",
		}},
	},
	{
		Name:    "ViT-L-14",
		Aliases: []string{"ViT-L/14", "openai/ViT-L-14"},
		Summary: "OpenAI CLIP ViT-L/14 (224 px, patch 14, 768-d embeddings), TorchScript archive",
		Base:    openAIBase,
		Approx:  "about 890 MiB",
		Files: []File{{
			Name:   "ViT-L-14.pt",
			Path:   "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836/ViT-L-14.pt",
			SHA256: "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836",
		}},
	},
	hfCLIP("openai/clip-vit-base-patch32", []string{"hf-vit-b32"},
		"Hugging Face CLIPModel of OpenAI ViT-B/32 (the same weights as ViT-B-32, safetensors)", "about 580 MiB"),
}

// hfCLIP describes a Hugging Face CLIPModel repository: its two small JSON
// configuration files and its safetensors weights, from the main branch.
func hfCLIP(repo string, aliases []string, summary, approx string) Checkpoint {
	file := func(name string, lfs bool) File {
		f := File{Name: name, Path: repo + "/resolve/main/" + name, MaxSize: 1 << 20}
		if lfs {
			f.Pointer = repo + "/raw/main/" + name
			f.MaxSize = 0
		}
		return f
	}
	return Checkpoint{
		Name: repo, Aliases: aliases, Summary: summary, Base: huggingFaceBase, Approx: approx, Folder: true,
		Files: []File{file("config.json", false), file("preprocessor_config.json", false), file("model.safetensors", true)},
	}
}
