package ui

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"climxai/app"
	"climxai/resources"
)

// TestFyneAppMetadata keeps FyneApp.toml in step with the code: the app ID and the version.
func TestFyneAppMetadata(t *testing.T) {
	var meta struct {
		Website string
		Details struct {
			Name, ID, Version, Icon string
			Build                   int
		}
	}
	if _, err := toml.DecodeFile(filepath.Join("..", "FyneApp.toml"), &meta); err != nil {
		t.Fatal(err)
	}
	d := meta.Details
	if d.ID != AppID || d.Name != "climxai" {
		t.Errorf("FyneApp.toml: ID %q name %q, want %q climxai", d.ID, d.Name, AppID)
	}
	if want, _, _ := strings.Cut(app.Version, "-"); d.Version != want {
		t.Errorf("FyneApp.toml: version %q, app.Version %q: want %q", d.Version, app.Version, want)
	}
	// The icon fyne package bundles is the one the binary embeds: a square PNG with content.
	b, err := os.ReadFile(filepath.Join("..", d.Icon))
	if err != nil || !bytes.Equal(b, resources.Icon()) {
		t.Fatalf("FyneApp.toml icon %q: %v (or differs from resources.Icon)", d.Icon, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 512 || img.Bounds().Dy() != 512 || !nonBlank(img) {
		t.Errorf("icon: %v, bounds %v", err, img.Bounds())
	}
}
