package resources

import _ "embed"

// icon.png is drawn by tools/icon (go run ./tools/icon): a globe over the North Atlantic with an
// attribution heatmap around a target cell.
//
//go:embed icon.png
var icon []byte

// Icon is climxai's application icon, a 512 x 512 PNG (also FyneApp.toml's Icon).
func Icon() []byte { return icon }
