"""Staff sign-in to the admin: password plus a second factor (django-otp: an authenticator
app's TOTP code, or a single-use recovery code), enrolment, and throttling of wrong attempts
that never refuses a right password with a right code. Its own app (label staff_auth), so
its migrations never collide with preorder_shop's."""
