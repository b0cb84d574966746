#!/bin/sh
# Loads the report page (report.html) in headless Chromium and fails unless it renders as a page:
# - the browser's DOM holds Figure 2 as an inline <svg>, and no chart figure lacks its SVG;
# - Table 1, Table 2, the ablations, the retention control, the claims and the provenance are
#   <table> elements under their captions;
# - the browser logged no console message (an error in the page, or a load that the page's content
#   security policy blocked: the page must fetch nothing);
# - screenshots at a phone's width (412 px) and a desktop's (1280 px) are PNGs of that width that
#   hold more than a blank page's screenshot does. They stay in OUTPUT, to look at.
#
#   tools/check_html.sh [--self-test] PAGE [OUTPUT]
#
# OUTPUT defaults to PAGE's folder. --self-test then also checks that the check fails on copies of
# the page without its figures, without its tables, and with an image it cannot load.
#
# Where no Chromium is installed (`make test` installs Debian's chromium when run as root), the
# check says it was skipped and why, and passes.
set -eu

self_test=no
page=""
output=""
for argument in "$@"; do
    case "$argument" in
        --self-test) self_test=yes ;;
        -*) echo "check_html: unknown option $argument" >&2; exit 2 ;;
        *) if [ -z "$page" ]; then page=$argument; elif [ -z "$output" ]; then output=$argument; else echo "check_html: too many arguments" >&2; exit 2; fi ;;
    esac
done
[ -n "$page" ] || { echo "usage: tools/check_html.sh [--self-test] PAGE [OUTPUT]" >&2; exit 2; }
[ -f "$page" ] || { echo "check_html: $page does not exist (repro report writes it)" >&2; exit 1; }
output=${output:-$(dirname "$page")}
mkdir -p "$output"

browser=""
for name in chromium chromium-browser google-chrome; do
    if command -v "$name" > /dev/null 2>&1; then browser=$name; break; fi
done
if [ -z "$browser" ]; then
    if [ "$(id -u)" != 0 ]; then why="not root, so make test could not install it"
    elif ! command -v apt-get > /dev/null 2>&1; then why="no apt-get to install it with"
    else why="apt-get did not install it"; fi
    echo "check_html: skipped the browser check of $page: no chromium on this machine ($why; Debian's package is chromium)"
    exit 0
fi

# A profile of its own for each run, so that runs side by side (other checkouts) do not share one.
profile=$(mktemp -d "${TMPDIR:-/tmp}/check_html.XXXXXX")
trap 'rm -rf "$profile"' EXIT

# run_browser LOG ARGS...: Chromium headless on its own profile, its log (console messages among
# it) in LOG; at most two minutes.
run_browser() {
    log=$1; shift
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --hide-scrollbars --user-data-dir="$profile/data" --enable-logging=stderr --v=0 \
        --virtual-time-budget=5000 "$@" 2> "$log"
}

# png_width FILE: the width in the PNG's header, or 0 when FILE is not a PNG.
png_width() {
    if [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" != 89504e470d0a1a0a ]; then echo 0; return; fi
    od -An -tu1 -j16 -N4 "$1" | awk '{ print ((($1 * 256 + $2) * 256 + $3) * 256 + $4) }'
}

# check PAGE NAME: 0 when PAGE renders as the report must, 1 with the reasons printed otherwise.
check() {
    file=$1; name=$2
    url="file://$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
    dom="$output/$name.dom.html"
    failures=""
    fail() { failures="$failures
  - $1"; }

    run_browser "$output/$name.dom.log" --dump-dom "$url" > "$dom" || fail "chromium could not load the page (exit status $?; see $output/$name.dom.log)"

    # The figures: Figure 2 as inline SVG, and no figure that could not be read.
    grep -q '<svg role="img" aria-label="Figure 2\.' "$dom" || fail "no inline <svg> of Figure 2 in the DOM"
    charts=$(grep -c '<figure class="chart' "$dom" || true)
    svgs=$(grep -c '<svg ' "$dom" || true)
    [ "$charts" -ge 1 ] && [ "$svgs" -ge "$charts" ] || fail "$charts chart figures but $svgs <svg> elements in the DOM"
    ! grep -q '<figure class="chart missing">' "$dom" || fail "a figure's SVG is missing: $(grep -A1 '<figure class="chart missing">' "$dom" | tail -1)"

    # The tables, each a <table> right under its caption.
    for table in "Table 1" "Table 2" "Ablation" "Retention control" "Claims" "Provenance"; do
        grep -A2 "<figcaption><strong>$table\.</strong>" "$dom" | grep -q '^<table>' || fail "no <table> of $table in the DOM"
    done

    # Console messages: errors in the page, loads the content security policy blocked.
    for log in "$output/$name.dom.log"; do
        if grep -q ':CONSOLE' "$log"; then fail "the browser logged console messages: $(grep ':CONSOLE' "$log" | head -3 | sed 's/^.*:CONSOLE[^]]*\] //')"; fi
    done

    if [ -z "$failures" ]; then
        # Screenshots at a phone's and a desktop's width, against a blank page's at the phone's.
        blank="$output/$name.blank.png"
        run_browser "$output/$name.blank.log" --window-size=412,2400 --screenshot="$blank" "data:text/html,<title>blank</title>" > /dev/null || true
        blank_size=$(wc -c < "$blank" 2> /dev/null || echo 0)
        for size in phone:412,2400 desktop:1280,1600; do
            label=${size%%:*}; window=${size#*:}; width=${window%,*}
            shot="$output/$name.$label.png"
            rm -f "$shot"
            run_browser "$output/$name.$label.log" --window-size="$window" --screenshot="$shot" "$url" > /dev/null || fail "chromium could not take the $label screenshot (exit status $?)"
            if [ ! -s "$shot" ]; then fail "no $label screenshot was written"; continue; fi
            [ "$(png_width "$shot")" = "$width" ] || fail "the $label screenshot is not a PNG $width pixels wide"
            [ "$(wc -c < "$shot")" -gt $((blank_size * 4)) ] || fail "the $label screenshot ($(wc -c < "$shot") bytes) holds little more than a blank page's ($blank_size bytes)"
            if grep -q ':CONSOLE' "$output/$name.$label.log"; then fail "the browser logged console messages at the $label width"; fi
        done
    fi

    if [ -n "$failures" ]; then
        echo "check_html: $file does not render as the report:$failures"
        return 1
    fi
    echo "check_html: $file renders in $("$browser" --version 2> /dev/null | head -1): $svgs figures as inline SVG (Figure 2 among them), Tables 1-2, the ablations, the retention control, the claims and the provenance as tables, no console message; screenshots in $output/$name.phone.png and $name.desktop.png"
}

check "$page" page

if [ "$self_test" = yes ]; then
    # The check must fail on a page that lost its figures, its tables, or loads something.
    broken="$output/broken"
    mkdir -p "$broken"
    sed 's/<svg /<div /g; s/<\/svg>/<\/div>/g' "$page" > "$broken/no-figures.html"
    sed 's/<table>/<div>/g; s/<\/table>/<\/div>/g' "$page" > "$broken/no-tables.html"
    sed 's|</main>|<img src="figure.png" alt=""></main>|' "$page" > "$broken/fetches.html"
    for case in no-figures no-tables fetches; do
        if check "$broken/$case.html" "broken-$case" > "$broken/$case.txt"; then
            echo "check_html: the self-test failed: the check passed a page with $case"
            exit 1
        fi
    done
    echo "check_html: self-test: the check fails on the page without figures, without tables, and with an image to load"
fi
