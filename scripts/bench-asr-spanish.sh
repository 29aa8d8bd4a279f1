#!/usr/bin/env bash
# `voxmill bench asr` with the multilingual Whisper base on synthetic Spanish (the README's multilingual table), each
# against faster-whisper 1.2.1, same model, beam, compute type and threads, language detected by both:
#   story    a story read three times (espeak-ng -v es), voxmill's defaults against the batched pipeline;
#   prompts  telephone prompts, four phrases repeated 14 times: every window's text repeats (compression ratio
#            about 3), the regression case for temperature fallback: defaults against batched, then the fallback
#            ladder 0,0.2,…,1 with previous-text prompts and timestamps against the sequential decoding.
#
#   scripts/bench-asr-spanish.sh [extra voxmill bench asr options]
#
# Prints one line per run and keeps the audio, scripts and JSON under $VOXMILL_BENCH_OUT (default
# /tmp/voxmill-bench-spanish).
set -euo pipefail
out="${VOXMILL_BENCH_OUT:-/tmp/voxmill-bench-spanish}"
bin="${VOXMILL_BIN:-target/release/voxmill}"
[ -x "$bin" ] || { echo "bench-asr-spanish: $bin is not built; run make build" >&2; exit 1; }
mkdir -p "$out"

story="El tren salió de la estación a las ocho de la mañana. Los pasajeros miraban por la ventana mientras el campo \
pasaba lentamente. Una mujer leía un libro sobre la historia de la ciudad. El revisor pidió los billetes con una \
sonrisa amable. En el vagón de al lado, dos niños jugaban a las cartas. El cielo estaba despejado y el sol brillaba \
sobre las montañas. Cuando llegamos al pueblo, la plaza estaba llena de gente. Había un mercado con frutas, verduras \
y pan recién hecho. Compramos naranjas y un poco de queso para el viaje de vuelta. Por la tarde caminamos hasta el \
río y descansamos bajo los árboles. Mi hermano contó una historia divertida sobre su primer trabajo. Todos nos \
reímos mucho y olvidamos el cansancio del día. Al volver a casa, la cena ya estaba preparada en la mesa. Hablamos de \
los planes para el verano y de los amigos que queríamos visitar. La noche era tranquila y se oían los grillos en el \
jardín. Antes de dormir, escribí unas líneas en mi cuaderno sobre todo lo que habíamos visto."
prompt="Para continuar en español, pulse uno. Su llamada es importante para nosotros. Por favor, espere en línea. \
Para hablar con un agente, pulse cero."
printf '%s %s %s\n' "$story" "$story" "$story" > "$out/story.txt"
for _ in $(seq 14); do printf '%s ' "$prompt"; done > "$out/prompts.txt"
for name in story prompts; do
    if [ ! -f "$out/$name.wav" ]; then
        espeak-ng -v es -s 160 -w "$out/$name.raw.wav" -f "$out/$name.txt"
        sox -q "$out/$name.raw.wav" -r 16000 -c 1 -b 16 "$out/$name.wav"
        rm "$out/$name.raw.wav"
    fi
done

printf '%-34s %7s %9s %12s %7s %9s %9s\n' run audio_s voxmill_s reference_s ratio wer_vox wer_ref
bench() {
    local label="$1" audio="$2" reference="$3" json
    shift 3
    json="$out/$audio-$reference.json"
    "$bin" --json bench asr --model whisper:base --audio "$out/$audio.wav" --script "$out/$audio.txt" \
        --reference "$reference" "$@" > "$json"
    python3 - "$json" "$label" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])  # the summary is the last line
v = next(r for r in d["runs"] if r["name"] == "voxmill")
r = next(r for r in d["runs"] if r["name"] != "voxmill")
pct = lambda x: f"{100 * x['wer']:8.1f}%" if x.get("wer") is not None else f"{'-':>9}"
print(f"{sys.argv[2]:<34} {d['audio_secs']:7.1f} {v['seconds']:9.2f} {r['seconds']:12.2f} "
      f"{r['seconds'] / v['seconds']:6.2f}x {pct(v)} {pct(r)}")
PY
}
bench "story (defaults vs batched)" story batched "$@"
bench "prompts (defaults vs batched)" prompts batched "$@"
bench "prompts (fallback vs sequential)" prompts sequential \
    --temperatures 0,0.2,0.4,0.6,0.8,1 --condition --timestamps "$@"
