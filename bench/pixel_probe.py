"""Rescore a finished run's duplicate hash pairs with pixel-score variants, true against false pairs.

    python -m bench.pixel_probe RUN_DIR CORPUS_DIR NAME     # writes out/pixel-probe/NAME.parquet

RUN_DIR: a `dedup run` output on a harness part (bench/broad_corpus.py, bench/quality_corpus.py);
CORPUS_DIR: that part (its planted.csv gives each file's group and kind). For every duplicate
pair of a hash stage it recomputes both thumbnails from the files (udfs.robust.key_features) and
records, best over the family's alignments (udfs.verify.views): the job's score, the detail
correlation, the detail correlation inside the eroded common interior of the two pictures, and for
the exactly aligned families whether the block check (udfs.verify.blocks_disagree) rejects the pair.
Used for bench/RESULTS.md ## broad ("Next candidate rule", the block check: run it on a default run
made before the block check to count what it rejects). Never run it on a kept-aside part.
"""
import os, sys, numpy as np, pandas as pd
from PIL import Image
from scipy import ndimage
from udfs import robust, verify

out, corpus, name = sys.argv[1], sys.argv[2], sys.argv[3]
p = pd.read_parquet(f'{out}/pairs'); m = pd.read_parquet(f'{out}/manifest')
pl = pd.read_csv(f'{corpus}/planted.csv')
root = os.path.abspath(corpus).rstrip('/') + '/'   # the manifest's uris are absolute
m['file'] = m.uri.str.replace('file://', '').str.replace('file:', '').str.replace(root, '', regex=False)
gk = 'group' if 'group' in pl.columns else 'original'
g = dict(zip(m.item_id, m.file.map(dict(zip(pl.file, pl[gk])))))
kd = dict(zip(m.item_id, m.file.map(dict(zip(pl.file, pl['kind']))))) if 'kind' in pl.columns else {}
uri = dict(zip(m.item_id, m.uri.str.replace('file://', '').str.replace('file:', '')))
d = p[p.is_duplicate & p.stage.isin(list(verify.STAGE_FAMILY))].copy()
d['same'] = [g.get(a) == g.get(b) for a, b in zip(d.item_a, d.item_b)]
d['kind'] = [kd.get(a, '') for a in d.item_a]
cache = {}
def feat(i):
    if i not in cache:
        cache[i] = robust.key_features(Image.open(uri[i]).convert('RGB'))
    return cache[i]

def masked_detail(x, y, erode=3, level=0.12, min_share=0.3):
    lo = min(x.min(), y.min()); hi = max(x.max(), y.max())
    t = lo + level * (hi - lo)
    mask = ndimage.binary_erosion((x > t) & (y > t), iterations=erode)
    if mask.mean() < min_share:
        return np.nan
    rx, ry = x - verify._coarse(x), y - verify._coarse(y)
    rx, ry = rx[mask], ry[mask]
    rx = rx - rx.mean(); ry = ry - ry.mean()
    den = float(np.sqrt((rx*rx).sum() * (ry*ry).sum()))
    return float((rx*ry).sum()/den) if den > 1e-6 else 0.0

rows = []
for r in d.itertuples():
    fa, fb = feat(r.item_a), feat(r.item_b)
    A, B = verify.load(fa.thumb), verify.load(fb.thumb)
    fam = verify.STAGE_FAMILY[r.stage]
    best_d, best_m = -1, -1
    blocks = None
    for x, y in verify.views(A, B, fam):
        if fam in verify.EXACT_FAMILIES:
            blocks = verify.blocks_disagree(x, y)
        best_d = max(best_d, verify.detail_correlation(x, y))
        mm = masked_detail(x, y)
        if not np.isnan(mm): best_m = max(best_m, mm)
    rows.append((r.item_a, r.item_b, r.stage, r.same, r.kind, r.verify_score, best_d, best_m if best_m > -1 else np.nan,
                 bool(fa.sparse or fb.sparse), blocks))
res = pd.DataFrame(rows, columns=['a','b','stage','same','kind','score','detail','masked','sparse','blocks'])
from pathlib import Path
Path('out/pixel-probe').mkdir(parents=True, exist_ok=True)
res.to_parquet(f'out/pixel-probe/{name}.parquet')
print(name, len(res), 'pairs; false', int((~res.same).sum()))
