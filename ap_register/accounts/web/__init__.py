"""Signing in and out, and changing a password."""

from __future__ import annotations

import ipaddress
import time

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import InputRequired

from ap_register import clock
from ap_register.accounts import audit, kept_answers, two_factor, users
from ap_register.blueprints.forms import Form, attempt, submit, text_field
from ap_register.domain.actors import Actor
from ap_register.domain.errors import Forbidden
from ap_register.extensions import db, limiter
from ap_register.models import User
from ap_register.web import current_actor, same_site_path

bp = Blueprint("auth", __name__)


class SignInForm(Form):
    email = text_field(
        "Email address",
        required="Enter your email address",
        max_length=254,
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired(message="Enter your password")],
        widget=GovPasswordInput(),
        render_kw={"autocomplete": "current-password"},
    )
    submit = submit("Sign in")


class ChangePasswordForm(Form):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired(message="Enter your current password")],
        widget=GovPasswordInput(),
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[InputRequired(message="Enter a new password")],
        widget=GovPasswordInput(),
        description=(
            "12 characters or more, and not a common password. Three or four random words together "
            "are easy to remember and hard to guess."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    submit = submit("Change password")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never redirect a signed-in user elsewhere."""
    return same_site_path(target, url_for("main.home"))


def _account_key() -> str:
    """The account a sign-in is for, as sign-in itself reads the address."""
    return "account:" + users.normalise_email(request.form.get("email", ""))


def _client() -> str:
    """Where a sign-in comes from: the client's address, or its /64 for IPv6 (one subscriber's
    share, which a stranger could otherwise walk through address by address)."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


def _account_client_key() -> str:
    # Its own prefix, so that no typed address can make this the key of the count everywhere.
    return f"account-client:{_client()}:{users.normalise_email(request.form.get('email', ''))}"


def _password_was_wrong(response: Response) -> bool:
    # Only a password checked and found wrong counts: never a refusal of a locked-out attempt, so
    # a stranger held at their own lock-out adds nothing to the account's count everywhere.
    return bool(g.get("sign_in_failed"))


LOCKED = "Too many failed attempts to sign in to this account. Wait 15 minutes, then try again."


TOO_MANY_FROM_HERE = (
    "Too many failed attempts to sign in from this network. Wait 15 minutes, then try again, or ask your "
    "administrator if it happens again."
)


@bp.route("/sign-in", methods=["GET", "POST"])
# Failures from one address, whatever the account: guessing across many accounts from one place
# slows down. Successes never count, so an office behind one public address is never locked out.
@limiter.limit(
    lambda: str(current_app.config["SIGN_IN_FAILURES_PER_ADDRESS"]),
    key_func=lambda: f"sign-in-client:{_client()}",
    methods=["POST"],
    deduct_when=_password_was_wrong,
    error_message=TOO_MANY_FROM_HERE,
)
# Failures from one client lock that client out of the account: a stranger who knows the
# address cannot lock the person out from their own desk.
@limiter.limit(
    lambda: str(current_app.config["ACCOUNT_LOCKOUT"]),
    key_func=_account_client_key,
    methods=["POST"],
    deduct_when=_password_was_wrong,
    error_message=LOCKED,
)
# Failures from everywhere, a higher limit: guessing spread over many clients still locks.
@limiter.limit(
    lambda: str(current_app.config["ACCOUNT_LOCKOUT_ALL_CLIENTS"]),
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_password_was_wrong,
    error_message=LOCKED,
)
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = users.authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is None:
            g.sign_in_failed = True
            audit.record(
                db.session,
                Actor(user=None, via="web", ip=request.remote_addr, label=form.email.data),
                "sign_in_failed",
                "user",
            )
            db.session.commit()
            form.form_errors.append("The email address or password is not right")
        elif user.totp_sealed:
            # The password was right; the code from their app comes next (within 5 minutes).
            session.clear()
            session["two_step"] = {
                "user": user.id,
                "version": user.session_version,
                "at": time.time(),
                "next": request.args.get("next"),
            }
            db.session.commit()
            return redirect(url_for("auth.sign_in_code"))
        else:
            session.clear()  # a new session id for the signed-in user
            login_user(user)
            audit.record(db.session, current_actor(), "sign_in", "user", user.id)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/sign_in.html", title="Sign in", form=form)


class CodeForm(Form):
    code = text_field(
        "Code from your authenticator app",
        required="Enter the 6-digit code from your authenticator app",
        max_length=10,
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )
    submit = submit("Continue")


TWO_STEP_SECONDS = 300


def _pending_key() -> str:
    return f"two-step:{(session.get('two_step') or {}).get('user')}"


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: str(current_app.config["ACCOUNT_LOCKOUT"]),
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
    error_message="Too many wrong codes. Wait 15 minutes, then sign in again.",
)
def sign_in_code() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    pending = session.get("two_step")
    user = db.session.get(User, pending["user"]) if pending else None
    if (
        pending is None
        or user is None
        or not user.is_active
        or user.session_version != pending["version"]
        or time.time() - pending["at"] > TWO_STEP_SECONDS
    ):
        session.pop("two_step", None)
        flash("Sign in again: the time to enter the code ran out", "info")
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        if two_factor.check(db.session, user, form.code.data or "", _box()):
            session.clear()
            login_user(user)
            audit.record(db.session, current_actor(), "sign_in", "user", user.id, detail={"two_step": True})
            db.session.commit()
            return redirect(_safe_next(pending.get("next")))
        audit.record(
            db.session,
            Actor(user=None, via="web", ip=request.remote_addr, label=user.email),
            "sign_in_code_failed",
            "user",
        )
        db.session.commit()
        form.code.errors = ["The code is not right, or was used already: enter the code your app shows now"]
    return render_template("auth/code.html", title="Enter the code from your app", form=form)


def _box() -> two_factor.SecretBox:
    return two_factor.SecretBox.from_config(current_app.config)


@bp.route("/account/keep-alive")
@login_required
def keep_alive() -> Response:
    """ "Stay signed in": a request renews the session (its idle time starts again); nothing else."""
    return Response(status=204)


@bp.route("/account/kept-answers", methods=["POST"])
@login_required
@limiter.limit(
    lambda: str(current_app.config["KEEP_ANSWERS_LIMIT"]), key_func=lambda: f"kept-answers:{current_user.get_id()}"
)
def keep_answers() -> tuple[Response, int] | Response:
    """A moment before the session lapses, the page's script sends the form's answers (JSON):
    they are kept for this person (`kept_answers`), and the person is signed out as the lapse
    would have done; signing in again brings them back to the page and its answers. If the
    session was used since the page last renewed it (another tab), it is not lapsing: 409, and
    nothing is kept."""
    lifetime = current_app.permanent_session_lifetime
    last_seen, now = g.get("session_last_seen"), clock.now().timestamp()
    if kept_answers.still_in_use(last_seen, now, lifetime):
        return jsonify(
            error="You are still signed in: this session was used in another tab or window",
            seconds_left=int(kept_answers.seconds_left(last_seen, now, lifetime)),
        ), 409
    # Read no more than the largest form's answers, whatever the request says of its length.
    request.max_content_length = kept_answers.LARGEST_REQUEST
    if (request.content_length or 0) > kept_answers.LARGEST_REQUEST:
        return jsonify(error="These answers are too large to keep"), 413
    answers = kept_answers.read(request.get_json(silent=True))
    if isinstance(answers, str):
        return jsonify(error=answers), 400
    kept_answers.keep(db.session, current_user, answers)
    audit.record(
        db.session,
        current_actor(),
        "sign_out",
        "user",
        current_user.id,
        detail={"lapsed": True, "answers_kept_for": answers.path},
    )
    db.session.commit()
    logout_user()
    session.clear()
    return Response(status=204)


@bp.route("/account")
@login_required
def account() -> str:
    return render_template("auth/account.html", title="Your account", may_two_step=two_factor.may_use(current_user))


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def two_step() -> str | Response:
    if not two_factor.may_use(current_user):
        raise Forbidden("Two-step sign-in is for the local authority's roles")
    form = CodeForm()
    if current_user.totp_sealed:
        form.submit.label.text = "Turn off two-step sign-in"
        if form.validate_on_submit():
            code, box = form.code.data or "", _box()
            done, _ = attempt(form, lambda: two_factor.turn_off(db.session, current_actor(), current_user, code, box))
            if done:
                flash("Two-step sign-in is off", "success")
                return redirect(url_for("auth.account"))
        return render_template("auth/two_step.html", title="Two-step sign-in", form=form, secret=None, uri=None)
    secret = session.get("totp_setup") or two_factor.new_secret()
    session["totp_setup"] = secret
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: two_factor.turn_on(db.session, current_actor(), current_user, secret, form.code.data or "", _box()),
        )
        if done:
            session.pop("totp_setup", None)
            login_user(current_user)  # the session version moved on: keep this session, end the others
            flash("Two-step sign-in is on: you will be asked for a code each time you sign in", "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/two_step.html",
        title="Set up two-step sign-in",
        form=form,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        uri=two_factor.setup_uri(current_user, secret),
    )


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    if current_user.is_authenticated:
        audit.record(db.session, current_actor(), "sign_out", "user", current_user.id)
        # The session cookie is signed, not stored: moving the version on is what makes a copy
        # of it (or the same account's session on another device) useless after signing out.
        current_user.session_version += 1
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(
    lambda: str(current_app.config["PASSWORD_CHANGE_LIMIT"]),
    key_func=lambda: f"password-change:{current_user.get_id()}",
    methods=["POST"],
    error_message="Too many attempts to change your password. Wait an hour, then try again.",
)
@login_required
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        done, _ = attempt(
            form,
            lambda: users.change_password(
                db.session,
                current_actor(),
                current_user,
                form.current_password.data or "",
                form.new_password.data or "",
            ),
        )
        if done:
            login_user(current_user)  # the session version moved on: keep this session, end the others
            flash("Your password has been changed", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", title="Change your password", form=form)
