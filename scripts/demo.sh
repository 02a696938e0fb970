#!/usr/bin/env bash
# make demo: a real text→image search and a zero-shot classification with
# the bundled model (models/emoji-clip-q8.clip, trained by the project on
# emoji art; see docs/DEMO_MODEL.md) over the bundled images in models/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
MODEL=${MODEL:-models/emoji-clip-q8.clip}
IMAGES=${IMAGES:-models/demo}
OUT=${OUT:-demo-out}
mkdir -p "$OUT"

echo "== the model"
"$BIN/clipinfer" info "$MODEL"

echo
echo "== index the $(ls "$IMAGES"/*.png | wc -l) demo images"
rm -f "$OUT/demo.idx" # rebuilt each time: an index refuses another model's vectors
"$BIN/clipinfer" index -m "$MODEL" -o "$OUT/demo.idx" "$IMAGES" >/dev/null

echo
echo "== text → image search (top 3 of each query; contact sheet: $OUT/search.png)"
# The model knows the 1,914 emoji's CLDR names and keywords (docs/DEMO_MODEL.md):
# queries in that vocabulary work; free-form scene descriptions are beyond an
# 8M-parameter model trained on emoji captions.
"$BIN/clipinfer" search -m "$MODEL" -index "$OUT/demo.idx" -k 3 -table -sheet "$OUT/search.png" \
	"red apple" "a pet" "a cup of coffee" "rain" "idea" "an animal with a trunk" "fruit" "rocket"

echo
echo "== zero-shot classification against 40 labels (top 3)"
labels="red apple,banana,watermelon,pizza,hot beverage,cat face,dog face,penguin,elephant,butterfly,\
rose,sun,snowman,umbrella,rocket,airplane,automobile,bicycle,house,key,light bulb,guitar,alarm clock,\
soccer ball,crescent moon,fire,heart,star,tree,fish,car,bus,train,horse,cow,pig,frog,bird,flag,book"
"$BIN/clipinfer" classify -m "$MODEL" -labels "$labels" -template "a picture of {}" -k 3 -table -no-cache \
	"$IMAGES/cat-face.png" "$IMAGES/guitar.png" "$IMAGES/rocket.png" "$IMAGES/snowman.png" "$IMAGES/watermelon.png"
echo
echo "(the contact sheet of the search is $OUT/search.png)"
