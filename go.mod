module github.com/clipinfer/clipinfer

go 1.26.0

require github.com/stretchr/testify v1.12.1

require (
	github.com/jackc/pgx/v5 v5.13.0
	github.com/pgvector/pgvector-go v0.3.0
	golang.org/x/text v0.44.0
)

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sync v0.25.0 // indirect
)

require (
	github.com/klauspost/cpuid/v2 v2.4.2
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/image v0.48.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)
