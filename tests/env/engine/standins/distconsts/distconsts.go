// Package distconsts stands in for the Dagger module of the same path, which
// the Go module proxy our machines reach serves at no version (it is a nested
// module of github.com/dagger/dagger named only by commit). The engine and CLI
// read these names to find their own pieces, so the values describe the engine
// image that tests/env/engine/build.sh assembles: where runc, dagger-init, the state
// directory and the CA directory live in it, and the socket the engine serves.
package distconsts

// The engine container and its socket.
const (
	EngineContainerName   = "dagger-engine.dev"
	DefaultEngineSockAddr = "unix:///run/dagger/engine.sock"
)

// Paths inside the engine image.
const (
	RuncPath                         = "/usr/local/bin/runc"
	DaggerInitPath                   = "/usr/local/bin/dagger-init"
	EngineDefaultStateDir            = "/var/lib/dagger"
	EngineContainerBuiltinContentDir = "/usr/local/share/dagger/content"
	EngineCustomCACertsDir           = "/usr/local/share/ca-certificates"
)

// Variables through which an engine image announces its built-in SDKs. This
// engine ships none: it serves client-mode sessions (see the README).
const (
	GoSDKManifestDigestEnvName         = "DAGGER_GO_SDK_MANIFEST_DIGEST"
	PythonSDKManifestDigestEnvName     = "DAGGER_PYTHON_SDK_MANIFEST_DIGEST"
	TypescriptSDKManifestDigestEnvName = "DAGGER_TYPESCRIPT_SDK_MANIFEST_DIGEST"
)

// Images the engine names for its terminal and its own tests. Our machines
// pull from no registry, so these are never fetched by this project.
const (
	AlpineVersion = "3.22.1"
	AlpineImage   = "alpine:" + AlpineVersion
	GolangImage   = "golang:1.25.3-alpine"
	BusyboxImage  = "busybox:1.37.0"
)

// The OCI annotation that carries an engine image's version.
const OCIVersionAnnotation = "org.opencontainers.image.version"
