# Generates coco-ap-case.json's data and expected AP with pycocotools (COCOeval, iouType segm). Needs numpy and pycocotools.
# Run: python3 coco-ap-case.py (writes gt.json and case.json; the committed JSON packs case.json's masks as hex).
import json, numpy as np
from pycocotools import mask as mu
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
rng = np.random.default_rng(3)
H=W=24
images=[];anns=[];dets=[];out=[]
aid=1
for im in range(12):
    images.append({'id':im+1,'width':W,'height':H,'file_name':f'{im}.png'})
    rec={'gts':[],'dets':[]}
    for k in range(rng.integers(1,5)):
        cat=int(rng.integers(1,3))
        m=np.zeros((H,W),np.uint8); y,x=rng.integers(0,16,2); h,w=rng.integers(3,9,2); m[y:y+h,x:x+w]=1
        r=mu.encode(np.asfortranarray(m)); r['counts']=r['counts'].decode()
        anns.append({'id':aid,'image_id':im+1,'category_id':cat,'segmentation':r,'area':int(m.sum()),'bbox':[int(x),int(y),int(w),int(h)],'iscrowd':0}); aid+=1
        rec['gts'].append({'category':cat,'mask':m.flatten().tolist()})
        for j in range(rng.integers(0,3)):
            d=m.copy()
            dy,dx=rng.integers(-1,2,2); d=np.roll(np.roll(d,dy,0),dx,1)
            if rng.random()<0.3: d[:]=0; d[rng.integers(0,20):,rng.integers(0,20):]=1
            dcat = cat if rng.random()<0.85 else 3-cat
            s=float(np.round(rng.random(),4))
            r=mu.encode(np.asfortranarray(d)); r['counts']=r['counts'].decode()
            dets.append({'image_id':im+1,'category_id':dcat,'segmentation':r,'score':s})
            rec['dets'].append({'category':dcat,'score':s,'mask':d.flatten().tolist()})
    out.append(rec)
gt={'images':images,'annotations':anns,'categories':[{'id':1,'name':'a'},{'id':2,'name':'b'}]}
json.dump(gt,open('gt.json','w'))
c=COCO('gt.json'); d=c.loadRes(dets)
e=COCOeval(c,d,'segm'); e.evaluate(); e.accumulate(); e.summarize()
json.dump({'images':out,'ap':e.stats[0],'ap50':e.stats[1],'ap75':e.stats[2]},open('case.json','w'))
