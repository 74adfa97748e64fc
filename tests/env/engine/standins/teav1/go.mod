module github.com/vito/tuist/teav1

go 1.24

require (
	github.com/charmbracelet/bubbletea v1.3.10
	github.com/charmbracelet/ultraviolet v0.0.0-20260720091822-7cc6674724ac
	github.com/vito/tuist v0.0.10
)
