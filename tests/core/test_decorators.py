"""require_dto: sync and async, keyword or last positional DTO, clear TypeErrors."""

from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel

from app.core.decorators import require_dto
from app.core.schemas import BaseDTO


class CreateUser(BaseDTO):
    email: str


class InviteUser(BaseDTO):
    email: str
    invited_by: str


class Other(BaseModel):
    value: int


@require_dto(CreateUser)
async def create_user(data: CreateUser) -> str:
    """Create a user."""
    return data.email


@require_dto(CreateUser, InviteUser)
def add_user(tenant: str, dto: CreateUser | InviteUser) -> str:
    return f"{tenant}:{dto.email}"


class UserService:
    @require_dto(CreateUser)
    async def create(self, data: CreateUser) -> str:
        return data.email


async def test_async_function_accepts_its_dto() -> None:
    assert await create_user(CreateUser(email="a@example.com")) == "a@example.com"
    assert await create_user(data=CreateUser(email="b@example.com")) == "b@example.com"


def test_sync_function_accepts_any_listed_dto() -> None:
    assert add_user("t1", CreateUser(email="a@example.com")) == "t1:a@example.com"
    assert (
        add_user("t1", dto=InviteUser(email="b@example.com", invited_by="c")) == "t1:b@example.com"
    )


async def test_method_checks_the_last_positional_argument() -> None:
    service = UserService()
    assert await service.create(CreateUser(email="a@example.com")) == "a@example.com"
    with pytest.raises(TypeError, match=r"UserService\.create\(\) expected CreateUser"):
        await service.create({"email": "a@example.com"})  # type: ignore[arg-type]


async def test_wrong_type_names_expected_and_received() -> None:
    with pytest.raises(TypeError) as caught:
        await create_user({"email": "a@example.com"})  # type: ignore[arg-type]
    message = str(caught.value)
    assert "expected CreateUser" in message
    assert "got dict" in message


def test_keyword_dto_wins_over_positional_arguments() -> None:
    with pytest.raises(
        TypeError, match=r"expected CreateUser or InviteUser as its argument 'dto', got Other"
    ):
        add_user("t1", dto=Other(value=1))  # type: ignore[arg-type]


def test_missing_dto_is_an_error() -> None:
    @require_dto(CreateUser)
    def nothing() -> None:
        return None

    with pytest.raises(TypeError, match="got nothing"):
        nothing()


def test_wrapper_keeps_name_doc_and_coroutine_nature() -> None:
    assert create_user.__name__ == "create_user"
    assert create_user.__doc__ == "Create a user."
    assert inspect.iscoroutinefunction(create_user)
    assert not inspect.iscoroutinefunction(add_user)
    assert list(inspect.signature(add_user).parameters) == ["tenant", "dto"]


def test_require_dto_needs_model_classes() -> None:
    with pytest.raises(TypeError):
        require_dto()
    with pytest.raises(TypeError):
        require_dto(dict)  # type: ignore[arg-type]
