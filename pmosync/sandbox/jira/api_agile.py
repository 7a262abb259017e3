"""``/rest/agile/1.0``: boards, sprints, sprint issues, epics, backlog and rank."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request

from pmosync.sandbox.jira import writes
from pmosync.sandbox.jira.api_base import (
    Call,
    HandlerBase,
    JiraHttpError,
)
from pmosync.sandbox.jira.state import (
    FieldErrors,
    now_ms,
)


class AgileRoutes(HandlerBase):
    # -- agile ------------------------------------------------------------------------------------
    def _page(self, items: list[Any], default_size: int = 50) -> dict[str, Any]:
        start = max(0, self._int_arg("startAt", 0))
        size = max(1, min(self._int_arg("maxResults", default_size), default_size))
        page = items[start : start + size]
        return {
            "maxResults": size,
            "startAt": start,
            "total": len(items),
            "isLast": start + size >= len(items),
            "values": page,
        }

    def _board_json(self, call: Call, board_id: int) -> dict[str, Any]:
        board = self.state.boards[board_id]
        project = self.state.projects[board.project_id]
        return {
            "id": board.id,
            "self": call.view.agile(f"board/{board.id}"),
            "name": board.name,
            "type": board.type,
            "location": {
                "projectId": int(project.id),
                "displayName": f"{project.name} ({project.key})",
                "projectName": project.name,
                "projectKey": project.key,
                "projectTypeKey": "software",
                "name": f"{project.name} ({project.key})",
            },
        }

    def h_boards(self, call: Call) -> Any:
        ref = request.args.get("projectKeyOrId")
        kind = request.args.get("type")
        name = request.args.get("name")
        project = self.state.find_project(ref) if ref else None
        if ref and project is None:
            raise JiraHttpError(400, [f"No project could be found with key '{ref}'."])
        boards = [
            self._board_json(call, b.id)
            for b in self.state.boards.values()
            if (project is None or b.project_id == project.id)
            and (not kind or b.type in kind.split(","))
            and (not name or name.lower() in b.name.lower())
        ]
        return self._page(boards)

    def h_board(self, call: Call, board_id: int) -> Any:
        if board_id not in self.state.boards:
            raise JiraHttpError(
                404, [f"Board {board_id} does not exist or you do not have permission to see it."]
            )
        return self._board_json(call, board_id)

    def h_board_sprints(self, call: Call, board_id: int) -> Any:
        if board_id not in self.state.boards:
            raise JiraHttpError(
                404, [f"Board {board_id} does not exist or you do not have permission to see it."]
            )
        states = set((request.args.get("state") or "future,active,closed").split(","))
        sprints = [
            call.view.sprint(s)
            for s in self.state.sprints.values()
            if s.board_id == board_id and s.state in states
        ]
        return self._page(sprints)

    def _sprint(self, sprint_id: int) -> Any:
        sprint = self.state.sprints.get(sprint_id)
        if sprint is None:
            raise JiraHttpError(404, [f"Sprint with id {sprint_id} does not exist."])
        return sprint

    def h_sprint(self, call: Call, sprint_id: int) -> Any:
        return call.view.sprint(self._sprint(sprint_id))

    def h_sprint_create(self, call: Call) -> Any:
        from pmosync.sandbox.jira.state import Sprint

        self._writer(call)
        body = self._body()
        board_id = body.get("originBoardId")
        if board_id not in self.state.boards or not body.get("name"):
            raise FieldErrors({"originBoardId": "A valid board and name are required."})
        sprint = Sprint(
            max(self.state.sprints, default=0) + 1,
            board_id,
            body["name"],
            "future",
            goal=body.get("goal") or "",
            created=now_ms(),
        )
        self.state.sprints[sprint.id] = sprint
        self._sprint_body(sprint, body)
        return call.view.sprint(sprint), 201

    def _sprint_body(self, sprint: Any, body: dict[str, Any]) -> None:
        for key, attr in (("startDate", "start"), ("endDate", "end"), ("completeDate", "complete")):
            if body.get(key):
                text = str(body[key]).replace("Z", "+00:00")
                try:
                    moment = datetime.fromisoformat(text)
                except ValueError:
                    raise FieldErrors({key: f"Invalid date format: {body[key]}"}) from None
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                setattr(sprint, attr, moment.astimezone(UTC))
        for key in ("name", "goal", "state"):
            if body.get(key):
                setattr(sprint, key, body[key])

    def h_sprint_update(self, call: Call, sprint_id: int) -> Any:
        self._writer(call)
        sprint = self._sprint(sprint_id)
        self._sprint_body(sprint, self._body())
        for issue in self.state.issues.values():
            issue.doc_cache = None
        self.state.revision += 1
        return call.view.sprint(sprint)

    def h_sprint_issues(self, call: Call, sprint_id: int) -> Any:
        self._sprint(sprint_id)
        field_id = self.state.custom_field_id("Sprint") or ""
        jql = request.args.get("jql")
        ids = [
            i.id for i in self.state.issues.values() if sprint_id in (i.fields.get(field_id) or [])
        ]
        if jql:
            allowed = set(self._run(self._compile(call, jql), set(), lag=False))
            ids = [i for i in ids if i in allowed]
        start = max(0, self._int_arg("startAt", 0))
        size = max(1, min(self._int_arg("maxResults", 50), 100))
        fields = self._list_arg("fields")
        page = ids[start : start + size]
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(ids),
            "issues": self._render_page(
                call,
                page,
                call.view.field_ids(fields, "*navigable"),
                self._expand(),
                set(),
                None,
                lag=False,
            ),
        }

    def _move_to_sprint(self, call: Call, issues: list[Any], sprint_ids: list[int]) -> None:
        user = self._writer(call)
        field_id = self.state.custom_field_id("Sprint")
        if field_id is None:
            raise JiraHttpError(400, ["The Sprint field is not configured."])
        if len(issues) > 50:
            raise JiraHttpError(400, ["Only 50 issues can be moved in one request."])
        spec = self.state.fields[field_id]
        moment = now_ms()
        targets = [self._issue(str(ref)) for ref in issues]
        for issue in targets:
            old = issue.fields.get(field_id) or []
            closed = [s for s in old if self.state.sprints[s].state == "closed"]
            new = closed + [s for s in sprint_ids if s not in closed]
            if new == old:
                continue
            self.state.touch(issue)
            issue.fields[field_id] = new
            self.state.add_history(
                issue, user.account_id, writes.changelog_items(self.state, spec, old, new), moment
            )
            issue.updated = moment
            issue.doc_cache = None

    def h_sprint_add(self, call: Call, sprint_id: int) -> Any:
        sprint = self._sprint(sprint_id)
        if sprint.state == "closed":
            raise JiraHttpError(400, ["Cannot move issues to a closed sprint."])
        self._move_to_sprint(call, list(self._body().get("issues") or []), [sprint_id])
        return None, 204

    def h_epic_add(self, call: Call, ref: str) -> Any:
        user = self._writer(call)
        epic = self._issue(ref)
        if self.state.issue_types[epic.fields["issuetype"]].name != "Epic":
            raise JiraHttpError(400, [f"Issue {epic.key} is not an epic."])
        link_field = "parent" if self.cloud else self.state.custom_field_id("Epic Link")
        assert link_field is not None
        moment = now_ms()
        for key in self._body().get("issues") or []:
            issue = self._issue(str(key))
            old = issue.fields.get(link_field)
            if old == epic.id:
                continue
            self.state.touch(issue)
            issue.fields[link_field] = epic.id
            spec = self.state.fields[link_field]
            self.state.add_history(
                issue,
                user.account_id,
                writes.changelog_items(self.state, spec, old, epic.id),
                moment,
            )
            issue.updated = moment
            issue.doc_cache = None
        return None, 204

    def h_backlog(self, call: Call) -> Any:
        """Move issues out of open sprints (closed sprints stay in their history)."""
        issues = list(self._body().get("issues") or [])
        self._move_to_sprint(call, issues, [])
        return None, 204

    def h_rank(self, call: Call) -> Any:
        """Rank issues before/after another one: rewrites their Rank values around it."""
        self._writer(call)
        body = self._body()
        rank_field = self.state.custom_field_id("Rank")
        anchor_ref = body.get("rankBeforeIssue") or body.get("rankAfterIssue")
        if not anchor_ref or rank_field is None:
            raise JiraHttpError(400, ["rankBeforeIssue or rankAfterIssue is required."])
        anchor = self._issue(str(anchor_ref))
        base = str(anchor.fields.get(rank_field) or "0|i00000:")
        before = bool(body.get("rankBeforeIssue"))
        for index, ref in enumerate(body.get("issues") or []):
            issue = self._issue(str(ref))
            # lexical ranks: "<anchor>" minus/plus a suffix keeps the order stable
            suffix = f"{index:03d}"
            issue.fields[rank_field] = (base[:-1] + "0" + suffix) if before else (base + suffix)
            issue.doc_cache = None
        self.state.revision += 1
        return None, 204
