/* Bearer-token checks: the admin token and nothing else. */
#include <criterion/criterion.h>
#include <errno.h>

#include "api/auth.h"

Test(auth, admin_token)
{
	struct auth *a = auth_new("0123abcd");
	struct auth_identity id = { 0 };

	cr_assert_not_null(a);
	cr_assert_eq(auth_check(a, "Bearer 0123abcd", &id), 0);
	cr_assert_str_eq(id.user, "kubernetes-admin");
	cr_assert_str_eq(id.groups[0], "system:masters");
	cr_assert_eq(auth_check(a, "bearer 0123abcd", &id), 0);
	cr_assert_eq(auth_check(a, NULL, &id), -EACCES);
	cr_assert_eq(auth_check(a, "Bearer ", &id), -EACCES);
	cr_assert_eq(auth_check(a, "Bearer 0123abc", &id), -EACCES);
	cr_assert_eq(auth_check(a, "Bearer 0123abcde", &id), -EACCES);
	cr_assert_eq(auth_check(a, "Bearer 0123abce", &id), -EACCES);
	cr_assert_eq(auth_check(a, "Basic 0123abcd", &id), -EACCES);
	auth_free(a);
}

Test(auth, empty_token_refused)
{
	cr_assert_null(auth_new(""));
	cr_assert_null(auth_new(NULL));
}
