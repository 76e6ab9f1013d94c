"""Knowledge pages for tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.knowledge.models import KnowledgePage
from banso.knowledge.schemas import PageIn
from banso.knowledge.service import create_page

TEMPLATE_BODY = """この議題テンプレートは更新提案の打ち合わせ用です。

## 利用状況の振り返り
ログイン率は先月比で下がっている。原因は担当者の異動と考えている。

## 更新プランの提案
上位プランの分析機能が課題の解決になる、という仮説で提案する。

```
## コードの中は見出しではない
```

## 次のアクション
"""


def make_page(session: Session, actor: Actor, **fields: Any) -> KnowledgePage:
    data = {"title": "オンボーディングの行動指針", "kind": "principle", "body": "本文", **fields}
    return create_page(session, actor, PageIn(**data))
