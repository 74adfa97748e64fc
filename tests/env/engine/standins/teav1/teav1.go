// Package teav1 is this project's stand-in for the tuist adapter that hosts a
// bubbletea v1 model (the dagger CLI's interactive prompt forms) inside a
// tuist TUI. The upstream module is not served by the Go module proxy our
// machines reach; the CLI only needs it for interactive prompts, which the
// pipeline never shows, so this keeps the contract small: render the model's
// View, forward key presses, and report when the model asks to quit.
package teav1

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/vito/tuist"
)

// Wrap hosts a bubbletea v1 model as a tuist component.
type Wrap struct {
	tuist.Compo
	model  tea.Model
	onQuit func()
	quit   bool
}

// New wraps model and runs its Init command.
func New(model tea.Model) *Wrap {
	w := &Wrap{model: model}
	w.run(model.Init())
	return w
}

// OnQuit registers fn to run once, when the model returns tea.Quit.
func (w *Wrap) OnQuit(fn func()) { w.onQuit = fn }

// Render draws the model's current view.
func (w *Wrap) Render(ctx tuist.Context) {
	for _, line := range strings.Split(w.model.View(), "\n") {
		ctx.Line(line)
	}
}

// HandleKeyPress translates the key into a bubbletea v1 message.
func (w *Wrap) HandleKeyPress(_ tuist.Context, ev uv.KeyPressEvent) bool {
	w.send(keyMsg(ev))
	return true
}

func (w *Wrap) send(msg tea.Msg) {
	if w.quit {
		return
	}
	var cmd tea.Cmd
	w.model, cmd = w.model.Update(msg)
	w.run(cmd)
	w.Update()
}

// run executes a command chain synchronously; commands of prompt forms are
// short (focus, validation, quit), so no goroutine is needed.
func (w *Wrap) run(cmd tea.Cmd) {
	for cmd != nil && !w.quit {
		msg := cmd()
		switch m := msg.(type) {
		case nil:
			return
		case tea.QuitMsg:
			w.quit = true
			if w.onQuit != nil {
				w.onQuit()
			}
			return
		case tea.BatchMsg:
			for _, c := range m {
				w.run(c)
			}
			return
		default:
			var next tea.Cmd
			w.model, next = w.model.Update(m)
			cmd = next
		}
	}
}

var specialKeys = map[rune]tea.KeyType{
	uv.KeyEnter:     tea.KeyEnter,
	uv.KeyTab:       tea.KeyTab,
	uv.KeyEscape:    tea.KeyEsc,
	uv.KeyBackspace: tea.KeyBackspace,
	uv.KeyUp:        tea.KeyUp,
	uv.KeyDown:      tea.KeyDown,
	uv.KeyLeft:      tea.KeyLeft,
	uv.KeyRight:     tea.KeyRight,
	uv.KeySpace:     tea.KeySpace,
}

func keyMsg(ev uv.KeyPressEvent) tea.KeyMsg {
	if ev.Mod&uv.ModCtrl != 0 && ev.Code == 'c' {
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	if ev.Code == uv.KeyTab && ev.Mod&uv.ModShift != 0 {
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	}
	if t, ok := specialKeys[ev.Code]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(ev.Text), Alt: ev.Mod&uv.ModAlt != 0}
}
