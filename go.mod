module github.com/clipinfer/clipinfer

go 1.26.0

require github.com/stretchr/testify v1.12.1

require golang.org/x/text v0.44.0

require (
	github.com/klauspost/cpuid/v2 v2.4.2
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/image v0.48.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)
