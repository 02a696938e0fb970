#!/usr/bin/env bash
# make demo: a real text→image search and a zero-shot classification with
# the bundled model (models/emoji-clip-q8.clip, trained by the project on
# emoji art; see docs/DEMO_MODEL.md) over the bundled images in models/demo.
# Each query's top hit and each image's top label is marked right (✓) or
# wrong (✗) against the answer a person would give.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
MODEL=${MODEL:-models/emoji-clip-q8.clip}
IMAGES=${IMAGES:-models/demo}
OUT=${OUT:-demo-out}
mkdir -p "$OUT"

cat <<'TXT'
== the model
A deliberately tiny CLIP: a 64-pixel ViT image tower and a small text
transformer (8 M parameters, a 7.9 MiB q8 file) that this project trained on
emoji artwork and emoji names. It knows emoji names and keywords, not
photographs or free-form scenes, and even on emoji it ranks the right
name first only some of the time (on an unseen emoji style: right name in
its top 5 for 23.5 % of images). Some misses below are expected; a real
CLIP model (clipinfer pull ViT-B-32, see README) does far better.

TXT
"$BIN/clipinfer" info "$MODEL"

echo
echo "== index the $(ls "$IMAGES"/*.png | wc -l) demo images"
rm -f "$OUT/demo.idx" # rebuilt each time: an index refuses another model's vectors
"$BIN/clipinfer" index -q -m "$MODEL" -o "$OUT/demo.idx" "$IMAGES" >/dev/null

# mark prints ✓ when the file name (without .png) is one of the right answers.
mark() { # got right...
	local got=$1 r
	shift
	for r in "$@"; do
		[ "$got" = "$r" ] && { printf '✓'; return; }
	done
	printf '✗'
}

echo
echo "== text → image search: top hit (✓ right, ✗ wrong), then hits 2 and 3"
# query|right answers (image names, any of them counts)
queries=(
	"red apple|red-apple"
	"a pet|cat-face dog-face"
	"a cup of coffee|hot-beverage"
	"rain|umbrella"
	"idea|light-bulb"
	"an animal with a trunk|elephant"
	"fruit|red-apple banana watermelon"
	"rocket|rocket"
)
args=()
for q in "${queries[@]}"; do args+=("${q%%|*}"); done
hits=$("$BIN/clipinfer" search -m "$MODEL" -index "$OUT/demo.idx" -k 3 -sheet "$OUT/search.png" "${args[@]}")
right=0
for q in "${queries[@]}"; do
	query=${q%%|*}
	# The JSON lines of this query, in rank order: "name score".
	mapfile -t top < <(printf '%s\n' "$hits" | grep -F "\"query\":\"$query\"" |
		sed -E 's/.*"score":([-0-9.e]+),"path":"([^"]*)".*/\2 \1/' | sed -E 's|^.*/([^/ ]*)\.png |\1 |')
	name=${top[0]%% *}
	m=$(mark "$name" ${q#*|})
	[ "$m" = ✓ ] && right=$((right + 1))
	printf '%s %-24s → %-14s %.3f   then %s, %s\n' "$m" "\"$query\"" "$name" "${top[0]#* }" "${top[1]%% *}" "${top[2]%% *}"
done
echo "   $right of ${#queries[@]} queries find a right image first (contact sheet: $OUT/search.png)"

echo
echo "== zero-shot classification of 5 images against 40 labels: top label, then 2 and 3"
labels="red apple,banana,watermelon,pizza,hot beverage,cat face,dog face,penguin,elephant,butterfly,\
rose,sun,snowman,umbrella,rocket,airplane,automobile,bicycle,house,key,light bulb,guitar,alarm clock,\
soccer ball,crescent moon,fire,heart,star,tree,fish,car,bus,train,horse,cow,pig,frog,bird,flag,book"
right=0
n=0
while IFS= read -r line; do
	img=$(printf '%s' "$line" | sed -E 's/^\{"image":"([^"]*)".*/\1/')
	mapfile -t top < <(printf '%s' "$line" | grep -oE '"label":"[^"]*","probability":[-0-9.e]+' |
		sed -E 's/"label":"([^"]*)","probability":(.*)/\1|\2/')
	want=$(basename "$img" .png | tr - ' ')
	got=${top[0]%%|*}
	m=$(mark "$got" "$want")
	[ "$m" = ✓ ] && right=$((right + 1))
	n=$((n + 1))
	printf '%s %-18s → %-13s %5.1f %%   then %s, %s\n' "$m" "$(basename "$img")" "$got" \
		"$(awk "BEGIN{print 100*${top[0]#*|}}")" "${top[1]%%|*}" "${top[2]%%|*}"
done < <("$BIN/clipinfer" classify -m "$MODEL" -labels "$labels" -template "a picture of {}" -k 3 -no-cache \
	"$IMAGES/cat-face.png" "$IMAGES/guitar.png" "$IMAGES/rocket.png" "$IMAGES/snowman.png" "$IMAGES/watermelon.png")
echo "   $right of $n images get the right label first"
