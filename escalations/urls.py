"""The pages of the service (each views module keeps its own routes)."""

from escalations.views import actions, cases, children, home, lists, raise_journey

urlpatterns = [
    *home.urlpatterns,
    *lists.urlpatterns,
    *cases.urlpatterns,
    *actions.urlpatterns,
    *raise_journey.urlpatterns,
    *children.urlpatterns,
]
