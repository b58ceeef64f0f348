package collections

import (
	"slices"
	"testing"
)

// TestRolePermissions is the roles table of CONTRACT §2, with §5's refund:orders.
func TestRolePermissions(t *testing.T) {
	want := map[Role][]string{
		RoleCustomer: {PermGetOrders, PermCreateOrders, PermCancelOrders, PermGetProducts, PermGetUsers},
		RoleSupport:  {PermGetOrders, PermUpdateOrders, PermCancelOrders, PermRefundOrders, PermGetProducts, PermGetUsers},
		RoleStore:    {PermGetProducts, PermCreateProducts, PermUpdateProducts, PermDeleteProducts},
	}
	for role, perms := range want {
		if got := role.Permissions(); !slices.Equal(got, perms) {
			t.Errorf("%s permissions = %v, want %v", role, got, perms)
		}
		if role.Can(PermGetOrders) != slices.Contains(perms, PermGetOrders) {
			t.Errorf("%s Can(get:orders) disagrees with its permissions", role)
		}
	}
	if Role("root").Can(PermGetOrders) {
		t.Error("an unknown role holds a permission")
	}
}
