from celery import shared_task

from .channels import sms_channel


@shared_task(autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def deliver_sms(to: str, text: str) -> None:
    sms_channel().send(to=to, text=text)
