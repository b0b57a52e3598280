#!/usr/bin/env bash
# setup.sh installs what climxai needs to build, test and run on Debian 12, without questions
# (CI has no terminal). It is idempotent: a second run checks and changes nothing.
#
#   1. Debian packages (apt-get only when one is missing; sudo only when not root)
#   2. the ONNX Runtime CPU library, taken from the npm package onnxruntime-node, into a cache dir,
#      verified against a pinned SHA-256
#   3. Go modules (go mod download)
#
# scripts/setup.sh --ort-lib prints the path of the cached library and does nothing else; the
# Makefile uses it so that the version and cache layout live only here.
set -euo pipefail

# DEBIAN_PACKAGES is every Debian package the build and the tests need. Later issues add theirs
# here.
DEBIAN_PACKAGES=(
	libnetcdf-dev netcdf-bin                  # dataset/netcdf: cgo over libnetcdf; ncdump for tests
	libdeflate-dev                            # dataset/netcdf: parallel decompression of chunks
	protobuf-compiler                         # onnx/: regenerating the protobuf types
	make gcc pkg-config                       # the Makefile; cgo
	libgl1-mesa-dev libx11-dev libxcursor-dev # Fyne (ui/) on X11
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
	poppler-utils libxml2-utils ghostscript   # plots/ tests: pdfinfo/pdftoppm, xmllint, gs
	xvfb xauth xdotool imagemagick            # scripts/gui-smoke.sh: the real window under Xvfb
	xclip                                     # ui: copying a figure to the clipboard as an image
)

# ONNX Runtime comes from the npm registry: onnxruntime-node ships the plain CPU shared library.
ORT_VERSION=1.30.0
ORT_NPM_PACKAGE=onnxruntime-node@${ORT_VERSION}
ORT_NPM_PATH=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
# ORT_SHA256 is the SHA-256 of ${ORT_NPM_PATH} in ${ORT_NPM_PACKAGE}, computed once when the
# version was pinned. Change both together.
ORT_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23

CACHE_DIR=${CLIMXAI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/climxai}
ORT_LIB=${CACHE_DIR}/onnxruntime/${ORT_VERSION}/libonnxruntime.so.1

if [[ ${1:-} == --ort-lib ]]; then
	printf '%s\n' "$ORT_LIB"
	exit 0
fi
if [[ $# -gt 0 ]]; then
	echo "usage: scripts/setup.sh [--ort-lib]" >&2
	exit 2
fi

cd "$(dirname "$0")/.."

step() { printf 'setup: %s\n' "$*"; }
die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || die "not root and sudo is missing: run this script as root"
	sudo_cmd=(sudo)
fi

# --- 1. Debian packages ------------------------------------------------------------------------
installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

wanted=("${DEBIAN_PACKAGES[@]}")
# npm is only the client that fetches ONNX Runtime; any npm will do (Debian's, NodeSource's, nvm's),
# so Debian's is installed only when there is none, which keeps it from fighting another Node.js.
if ! command -v npm >/dev/null; then
	wanted+=(npm)
fi
missing=()
for p in "${wanted[@]}"; do
	installed "$p" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	step "Debian packages: all ${#wanted[@]} installed"
else
	command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: install them by hand"
	step "Debian packages: installing ${missing[*]}"
	# A fresh machine has no package lists; refreshing them is only needed when installing.
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# --- 2. ONNX Runtime -----------------------------------------------------------------------------
sha256() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f $ORT_LIB && $(sha256 "$ORT_LIB") == "$ORT_SHA256" ]]; then
	step "ONNX Runtime ${ORT_VERSION}: cached at ${ORT_LIB}"
else
	if [[ -f $ORT_LIB ]]; then
		step "ONNX Runtime ${ORT_VERSION}: cached file has the wrong SHA-256, fetching it again"
		rm -f "$ORT_LIB"
	fi
	[[ $(uname -s)/$(uname -m) == Linux/x86_64 ]] ||
		die "the pinned ONNX Runtime is for Linux x86_64, this is $(uname -s)/$(uname -m): set CLIMXAI_ORT_LIB to a libonnxruntime.so ${ORT_VERSION} for this machine"
	command -v npm >/dev/null || die "npm is missing (it fetches ONNX Runtime): apt-get install npm"
	step "ONNX Runtime ${ORT_VERSION}: npm pack ${ORT_NPM_PACKAGE} (about 110 MB)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# npm warns about unrelated user config (e.g. "nodedir"); its warnings are noise here, its exit
	# status is what counts, and its log is shown only when it fails.
	if ! (cd "$tmp" && npm pack --loglevel=error "$ORT_NPM_PACKAGE" >npm.log 2>&1); then
		cat "$tmp/npm.log" >&2
		die "npm pack ${ORT_NPM_PACKAGE} failed (network? registry?)"
	fi
	tgz=("$tmp"/onnxruntime-node-*.tgz)
	[[ -f ${tgz[0]} ]] || die "npm pack wrote no tarball in $tmp"
	step "ONNX Runtime ${ORT_VERSION}: extracting ${ORT_NPM_PATH}"
	tar -xzf "${tgz[0]}" -C "$tmp" "$ORT_NPM_PATH" ||
		die "${ORT_NPM_PACKAGE} has no ${ORT_NPM_PATH}; the package layout changed"
	got=$(sha256 "$tmp/$ORT_NPM_PATH")
	if [[ $got != "$ORT_SHA256" ]]; then
		rm -f "$tmp/$ORT_NPM_PATH"
		die "ONNX Runtime from ${ORT_NPM_PACKAGE} has SHA-256 ${got}, expected ${ORT_SHA256}; file removed. If the package was republished on purpose, check it and update ORT_SHA256 in scripts/setup.sh"
	fi
	mkdir -p "$(dirname "$ORT_LIB")"
	# Move into place last, so an interrupted run never leaves a partial library behind.
	mv "$tmp/$ORT_NPM_PATH" "$ORT_LIB.partial"
	mv "$ORT_LIB.partial" "$ORT_LIB"
	step "ONNX Runtime ${ORT_VERSION}: installed ${ORT_LIB} (SHA-256 verified)"
fi

# --- 3. Go modules -------------------------------------------------------------------------------
command -v go >/dev/null || die "go is missing: install Go $(sed -n 's/^go //p' go.mod) or newer from https://go.dev/dl/"
step "Go modules: go mod download ($(go version | cut -d' ' -f3))"
go mod download

step "done; tests and the app find ONNX Runtime through CLIMXAI_ORT_LIB=${ORT_LIB}"
