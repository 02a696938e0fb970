# clipinfer — common tasks. Go must be on PATH (export PATH=$PATH:/usr/local/go/bin).
GO      ?= go
BIN     := bin
MODEL   ?= models/emoji-clip-q8.clip
# The source revision clipinfer version prints when the build info has none.
LDFLAGS := -X main.revision=$(shell git describe --always --dirty 2>/dev/null)

.PHONY: all build cross demo test test-go test-race test-generic test-arm vet fmt bench-kernels bench fixtures fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/clipinfer ./cmd/clipinfer
	$(GO) build -o $(BIN)/convert ./cmd/convert

# Static release binaries for the common targets, in bin/<os>-<arch>/.
cross:
	for t in linux/amd64 linux/arm64 linux/arm/7; do \
		os=$${t%%/*}; rest=$${t#*/}; arch=$${rest%%/*}; arm=$${rest#*/}; [ "$$arm" = "$$rest" ] && arm=; \
		dir=$(BIN)/$$os-$$arch$${arm:+v$$arm}; mkdir -p $$dir; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=$$arm $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$dir/ ./cmd/clipinfer ./cmd/convert || exit 1; \
	done

# The README's first command: a real text→image search and a zero-shot
# classification with the bundled demo model.
demo: build
	./scripts/demo.sh

# The README's second command: every test on this CPU's best kernel, the
# goroutine packages again under the race detector, the kernels and runtime
# on the generic kernel, then the arm64 suite under qemu (Cortex-A72: NEON;
# Cortex-A76: dot product; "max": i8mm) and the armv7 suite.
test: vet test-go test-race test-generic test-arm

vet:
	@test -z "$$(gofmt -l . | grep -v '^testdata/')" || (gofmt -l .; echo "gofmt needed"; exit 1)
	$(GO) vet ./...

test-go:
	$(GO) test -count=1 ./...

# The race detector over the packages that run goroutines: the server's
# slots and queue, the index and stores (writers, reloads, PostgreSQL), the
# runtime's parallel scheduler and pooled scratch, the checkpoint reader.
# Single-goroutine exactness tests skip themselves under it (raceEnabled).
RACE_PKGS := ./server/... ./index/... ./store/... ./runtime/ ./checkpoint/ ./format/ ./analysis/
test-race:
	$(GO) test -race -count=1 $(RACE_PKGS)

test-generic:
	CLIPINFER_KERNEL=generic $(GO) test -count=1 ./kernels/... ./runtime/...

test-arm:
	./scripts/test-arm.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

# Kernel benchmarks, every kernel this CPU runs (benchstat-comparable).
bench-kernels:
	$(GO) test -run '^$$' -bench 'QMatMul|MatMul' -count 6 ./kernels | tee bench-kernels.txt

# Whole-tower benchmarks on a random ViT-B/32 (see docs/PERFORMANCE.md).
bench: build
	./scripts/bench.sh

# python-ftfy 6.3.1 and wcwidth unpacked side by side (FTFY_DIR/ftfy, FTFY_DIR/wcwidth):
# the tokenizer fixtures and tables come from the real ftfy.
FTFY_DIR ?= $(error set FTFY_DIR to a directory holding python-ftfy 6.3.1 (ftfy/) and wcwidth (wcwidth/))
FTFY_PY = PYTHONPATH=$(FTFY_DIR)/ftfy:$(FTFY_DIR)/wcwidth /usr/bin/python3

# Regenerate the golden fixtures (needs Debian's python3-torch; CI does not).
fixtures:
	$(FTFY_PY) tools/ftfy/gen_tables.py
	$(FTFY_PY) tools/reference/tokenizer_ref.py
	$(FTFY_PY) tools/reference/ftfy_ref.py $(FTFY_DIR)/ftfy
	/usr/bin/python3 tools/reference/sentencepiece_ref.py
	/usr/bin/python3 tools/reference/siglip_tokenizer_ref.py
	/usr/bin/python3 tools/reference/preprocess_ref.py
	/usr/bin/python3 tools/reference/checkpoint_ref.py
	/usr/bin/python3 tools/reference/models_ref.py
	/usr/bin/python3 tools/reference/simpleclip_ref.py
	/usr/bin/python3 tools/reference/siglip_ref.py

fuzz:
	./scripts/fuzz.sh

clean:
	rm -rf $(BIN)

include tools/train/Makefile.inc
