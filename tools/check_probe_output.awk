# Checks what `repro probe` printed (make test runs it with --per-skill 1): the summary line's counts
# must be those of the answers printed above it, there must be at least one question, and no skill
# may come twice. Exits 1, saying why, otherwise.
#
#   awk -f tools/check_probe_output.awk probe-output.txt
#
# Each question is two lines:
#   <skill padded to 12> <question>
#                expected <answer> | image: <reply>[ ✓] | blank: <reply>[ ✓]
# and the summary line is
#   R of N right with the image, B with the blank image; C answers changed with the image

/^[^ ]/ && !/answers changed with the image$/ && !/^wrote / {
    if ($1 in skills) { print "probe: skill " $1 " asked twice with --per-skill 1"; failed = 1 }
    skills[$1] = 1
    asked++
}

/^ +expected / {
    answered++
    image_at = index($0, " | image: ")
    blank_at = index($0, " | blank: ")
    if (image_at == 0 || blank_at < image_at) { print "probe: cannot read the answers of: " $0; failed = 1; next }
    image = substr($0, image_at + 10, blank_at - image_at - 10)
    blank = substr($0, blank_at + 10)
    if (sub(/ ✓$/, "", image)) right_image++
    if (sub(/ ✓$/, "", blank)) right_blank++
    if (image != blank) changed++
}

/answers changed with the image$/ { summary = $0; summaries++ }

END {
    counted = (right_image + 0) " of " (answered + 0) " right with the image, " (right_blank + 0) \
        " with the blank image; " (changed + 0) " answers changed with the image"
    if (summaries != 1) { print "probe: expected one summary line, found " (summaries + 0); failed = 1 }
    if (answered == 0) { print "probe: no question was answered"; failed = 1 }
    if (asked != answered) { print "probe: " (asked + 0) " questions but " (answered + 0) " answer lines"; failed = 1 }
    if (summary != counted) { print "probe: the summary says \"" summary "\"; the answers above it give \"" counted "\""; failed = 1 }
    exit failed
}
