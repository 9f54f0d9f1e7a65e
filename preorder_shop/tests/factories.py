import factory

from preorder_shop.models import Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ["phone"]

    phone = factory.Sequence(lambda n: f"+82101{n:07d}")
    name = factory.Iterator(["김민준", "이서연", "박도윤", "최하은"])
