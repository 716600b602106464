// Package webtest is the portal's browser harness for tests: it finds
// Debian's Chromium (installing it, with a font that has Chinese glyphs,
// when the test runs as root, as CI does), starts one headless browser
// for a test package, and opens tabs at a phone's and a desktop's width.
// Tests drive the pages with chromedp and assert on what a person sees.
//
// It owns no production behaviour and must not be imported by anything
// but tests. A missing browser is never a skipped test: as root the
// harness installs it, otherwise the test fails with the command to run.
package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Where Debian puts what the harness needs.
const (
	// ChromiumPath is Debian's Chromium.
	ChromiumPath = "/usr/bin/chromium"
	// fontPath is WenQuanYi Micro Hei, a small font with the Chinese
	// glyphs the pages in Chinese (and the city names) need; without one
	// Chromium draws boxes.
	fontPath = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
	// installTimeout bounds apt-get (a first install downloads ~100 MB).
	installTimeout = 10 * time.Minute
)

// packages are the Debian packages behind ChromiumPath and fontPath.
func packages() []string { return []string{"chromium", "fonts-wqy-microhei"} }

// InstallCommand is what a person runs to give the tests their browser.
func InstallCommand() string {
	return "sudo apt-get update && sudo apt-get install -y " + strings.Join(packages(), " ")
}

// FindChromium returns Chromium's path, installing it (and the font) with
// apt-get when they are missing and the test runs as root; otherwise the
// test fails with the command that installs them.
func FindChromium(t testing.TB) string {
	t.Helper()
	if present(ChromiumPath) && present(fontPath) {
		return ChromiumPath
	}
	if os.Geteuid() != 0 {
		t.Fatalf("the portal's browser tests need Debian's Chromium (%s) and a Chinese font (%s); install them with:\n\t%s", ChromiumPath, fontPath, InstallCommand())
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	install := func() ([]byte, error) {
		cmd := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y"}, packages()...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	t.Logf("installing %s with apt-get", strings.Join(packages(), ", "))
	if out, err := install(); err != nil {
		// A fresh machine has no package lists yet.
		if upd, uerr := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); uerr != nil {
			t.Fatalf("apt-get update: %v\n%s", uerr, tail(upd))
		}
		if out, err = install(); err != nil {
			t.Fatalf("apt-get install %s: %v\n%s", strings.Join(packages(), " "), err, tail(out))
		}
	}
	if !present(ChromiumPath) {
		t.Fatalf("apt-get installed chromium, but %s is not there", ChromiumPath)
	}
	return ChromiumPath
}

func present(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// tail is the end of a command's output, enough to see why it failed.
func tail(b []byte) string {
	const n = 2000
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}

// Browser is one headless Chromium, shared by a package's browser tests
// (starting one takes a second or two of the machine's two cores).
type Browser struct {
	ctx    context.Context
	cancel func()
}

// Start starts a headless Chromium with an empty profile, stopped when
// the test ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := FindChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		// Root in a container has no user namespace for the sandbox.
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start %s: %v", path, err)
	}
	b := &Browser{ctx: ctx, cancel: func() { cancelCtx(); cancelAlloc() }}
	t.Cleanup(b.cancel)
	return b
}

// Screen is a viewport a tab emulates.
type Screen struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// Screens are the two screens the portal is held to: a desktop, and a
// phone 390 px wide (an iPhone 12 to 15's CSS width).
func Screens() []Screen {
	return []Screen{
		{Name: "desktop", Width: 1280, Height: 900},
		{Name: "phone", Width: 390, Height: 844, Mobile: true},
	}
}

// Tab opens a tab in the browser at screen's size, closed when the test
// ends; every action on it must finish within timeout.
func (b *Browser) Tab(t testing.TB, screen Screen, timeout time.Duration) context.Context {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(b.ctx)
	ctx, cancel := context.WithTimeout(tab, timeout)
	t.Cleanup(func() { cancel(); cancelTab() })
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if screen.Mobile {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(screen.Width, screen.Height, emulate...)); err != nil {
		t.Fatalf("open a %s tab: %v", screen.Name, err)
	}
	return ctx
}

// ColdTab opens a tab as a first visitor has it: in a browser context of
// its own (an empty cache, no cookies, no storage), at screen's size. It
// returns the tab and the function that closes it with its context.
func (b *Browser) ColdTab(t testing.TB, screen Screen, timeout time.Duration) (context.Context, func()) {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	ctx, cancel := context.WithTimeout(tab, timeout)
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if screen.Mobile {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(screen.Width, screen.Height, emulate...)); err != nil {
		cancel()
		cancelTab()
		t.Fatalf("open a cold %s tab: %v", screen.Name, err)
	}
	return ctx, func() { cancel(); cancelTab() }
}

// AcceptDialogs answers every JavaScript dialog the tab opens (confirm,
// prompt, alert) as a person who agrees would: OK, with answer typed into
// a prompt. Without it a dialog blocks the tab.
func AcceptDialogs(ctx context.Context, answer string) {
	opening := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range opening {
			if err != nil {
				return
			}
			go func() {
				_ = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
					_, err := cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true, PromptText: answer})
					return err
				}))
			}()
		}
	}()
}

// SaveScreenshot writes a PNG of what the tab shows (the whole page when
// full) to dir/name.png.
func SaveScreenshot(ctx context.Context, dir, name string, full bool) (string, error) {
	action := chromedp.CaptureScreenshot()
	if full {
		action = chromedp.FullScreenshot(100) // quality 100: PNG
	}
	png, err := chromedp.Run(ctx, action)
	if err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	// The folder a -screenshots flag names need not exist yet.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	return path, nil
}

// Console is what a tab's console said: script errors and exceptions,
// and the browser's own entries (a Content-Security-Policy violation, a
// file that failed to load).
type Console struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// WatchConsole collects the tab's console messages from now until the
// tab's context ends.
func WatchConsole(ctx context.Context) *Console {
	c := &Console{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	return c
}

// Take returns the messages collected so far and forgets them.
func (c *Console) Take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		out = append(out, m.String())
	}
	c.msgs = nil
	return out
}
